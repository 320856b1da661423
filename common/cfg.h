/*
 * The config engine both programs use. A program describes each setting
 * once, in a table: config file key, environment variable, long option,
 * default, help, type and the range or names it accepts. cfg_load fills
 * the targets from, in increasing priority:
 *
 *   1. the defaults
 *   2. the config file (--config FILE, else the program's *_CONFIG
 *      variable): "key = value" lines; '#' starts a comment line, " #"
 *      a trailing comment; a double-quoted value keeps spaces and '#'
 *   3. the environment; an empty variable counts as unset
 *   4. the options, in command-line order
 *
 * and answers --help/-h (every setting, with its variable, key and default)
 * and --version/-V the same way for every program. A bad value anywhere
 * stops the load with one line naming the setting and where it came from.
 */
#ifndef PGK_CFG_H
#define PGK_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What --version prints after the program's name (one for the project). */
#ifndef PGK_VERSION
#define PGK_VERSION "0.1.0"
#endif

typedef enum cfg_type {
	CFG_STR,    /* char **: strdup'd, freed by cfg_free */
	CFG_INT,    /* int *: base 10, within [min, max] */
	CFG_BOOL,   /* bool *: true/yes/on/1, false/no/off/0, any case */
	CFG_ENUM,   /* int *: one of names (any case) */
	CFG_CUSTOM, /* set() validates and stores */
} cfg_type;

typedef struct cfg_name {
	const char *name;
	int value;
} cfg_name;

/* A custom setter: 0, or -1 with the expected form written to why. */
typedef int (*cfg_set_fn)(const char *value, char *why, size_t whylen);

typedef struct cfg_setting {
	const char *key;     /* config file key; NULL: an option only */
	const char *env;     /* environment variable, or NULL */
	const char *flag;    /* long option without "--", or NULL: file only */
	const char *metavar; /* argument name in --help */
	const char *dflt;    /* applied first; NULL: none (see shown) */
	const char *shown;   /* the default as --help says it, if not dflt */
	const char *help;
	cfg_type type;
	void *target;          /* CFG_STR, CFG_INT, CFG_BOOL, CFG_ENUM */
	long min, max;         /* CFG_INT */
	const cfg_name *names; /* CFG_ENUM, ended by {NULL, 0} */
	cfg_set_fn set;        /* CFG_CUSTOM */
} cfg_setting;

typedef struct cfg_program {
	const char *name;       /* in messages, --help and --version */
	const char *version;    /* --version prints "name version" */
	const char *summary;    /* --help's first lines */
	const char *config_env; /* variable naming the config file */
	const cfg_setting *settings;
	int nsettings;
	/* File keys starting with prefix go to set_prefixed (key without the
	 * prefix): the forwarder's "kafka." librdkafka properties. */
	const char *prefix;
	int (*set_prefixed)(const char *key, const char *value, char *why, size_t whylen);
	const char *epilog; /* --help's last lines, or NULL */
} cfg_program;

/* 0: loaded; 1: --help or --version printed (exit 0); -1: an error was
 * printed (exit 2). *config_file, if given, gets the file read (malloc'd,
 * NULL if none). Loading again starts over from the defaults. */
int cfg_load(const cfg_program *p, int argc, char **argv, char **config_file);

/* Free the CFG_STR targets (set to NULL). */
void cfg_free(const cfg_program *p);

/* --help's text. */
void cfg_print_help(const cfg_program *p, FILE *out);

/* "key = value" split in place (quotes and comments as above); a blank or
 * comment line gives key NULL. 0, or -1 with *err set. */
int cfg_parse_line(char *line, char **key, char **value, const char **err);

/* A base-10 integer within [min, max], as CFG_INT reads it, for custom
 * setters; -1 with the range written to why. */
int cfg_parse_long(const char *v, long min, long max, long *out, char *why, size_t whylen);

/* One value for one setting, as the file, environment and options apply
 * it; source says where it came from in the error line. */
int cfg_apply(const cfg_program *p, const cfg_setting *s, const char *value, const char *source);

#endif
