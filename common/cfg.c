/*
 * The config engine (cfg.h): defaults, file, environment, options, help.
 * Everything a program knows about its settings is in its table; this file
 * knows only the types.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"

/* getopt_long values of the options that are not settings. */
enum { OPT_CONFIG = 1000, OPT_HELP, OPT_VERSION, OPT_SETTING_BASE = 2000 };

static int load_file(const cfg_program *p, const char *path);
static int load_env(const cfg_program *p);
static const cfg_setting *find_key(const cfg_program *p, const char *key);
static int set_value(const cfg_setting *s, const char *v, char *why, size_t whylen);
static int parse_bool(const char *v, bool *out);
static const char *setting_name(const cfg_setting *s, char *buf, size_t size);

int cfg_load(const cfg_program *p, int argc, char **argv, char **config_file)
{
	struct option *longopts = calloc((size_t)p->nsettings + 4, sizeof(*longopts));
	int *flag_setting = calloc((size_t)argc + 1, sizeof(*flag_setting));
	char **flag_value = calloc((size_t)argc + 1, sizeof(*flag_value));
	const char *config_path = NULL;
	int nopts = 0, nflags = 0, rc = 0;

	if (config_file) {
		free(*config_file);
		*config_file = NULL;
	}
	if (!longopts || !flag_setting || !flag_value) {
		fprintf(stderr, "%s: out of memory\n", p->name);
		rc = -1;
		goto out;
	}
	for (int i = 0; i < p->nsettings; i++) {
		const cfg_setting *s = &p->settings[i];
		if (s->dflt && cfg_apply(p, s, s->dflt, "default") < 0) {
			rc = -1;
			goto out;
		}
		if (s->flag)
			longopts[nopts++] = (struct option){s->flag, required_argument, NULL,
							    OPT_SETTING_BASE + i};
	}
	longopts[nopts++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	longopts[nopts++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[nopts++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
	longopts[nopts] = (struct option){NULL, 0, NULL, 0};

	/*
	 * Collect the options first and apply them last: they override the
	 * file and the environment, and --config names the file to read.
	 * optind = 0 makes glibc start over, so a load can run again.
	 */
	optind = 0;
	opterr = 1;
	for (;;) {
		int c = getopt_long(argc, argv, "hV", longopts, NULL);
		if (c == -1)
			break;
		if (c == OPT_HELP || c == 'h') {
			cfg_print_help(p, stdout);
			rc = 1;
			goto out;
		} else if (c == OPT_VERSION || c == 'V') {
			printf("%s %s\n", p->name, p->version);
			rc = 1;
			goto out;
		} else if (c == OPT_CONFIG) {
			config_path = optarg;
		} else if (c >= OPT_SETTING_BASE && c < OPT_SETTING_BASE + p->nsettings) {
			flag_setting[nflags] = c - OPT_SETTING_BASE;
			flag_value[nflags] = optarg;
			nflags++;
		} else {
			/* getopt_long already said what is wrong */
			fprintf(stderr, "Try '%s --help' for the list of options.\n", p->name);
			rc = -1;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", p->name, argv[optind]);
		fprintf(stderr, "Try '%s --help' for the list of options.\n", p->name);
		rc = -1;
		goto out;
	}

	if (!config_path && p->config_env) {
		const char *env = getenv(p->config_env);
		if (env && *env)
			config_path = env;
	}
	if (config_path) {
		if (config_file && !(*config_file = strdup(config_path))) {
			rc = -1;
			goto out;
		}
		if (load_file(p, config_path) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (load_env(p) < 0) {
		rc = -1;
		goto out;
	}
	for (int i = 0; i < nflags; i++) {
		const cfg_setting *s = &p->settings[flag_setting[i]];
		char source[80];
		snprintf(source, sizeof(source), "option --%s", s->flag);
		if (cfg_apply(p, s, flag_value[i], source) < 0) {
			rc = -1;
			goto out;
		}
	}
out:
	free(longopts);
	free(flag_setting);
	free(flag_value);
	return rc;
}

void cfg_free(const cfg_program *p)
{
	for (int i = 0; i < p->nsettings; i++) {
		const cfg_setting *s = &p->settings[i];
		if (s->type == CFG_STR && s->target) {
			free(*(char **)s->target);
			*(char **)s->target = NULL;
		}
	}
}

int cfg_apply(const cfg_program *p, const cfg_setting *s, const char *value, const char *source)
{
	char why[200] = "", name[80];

	if (set_value(s, value, why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "%s: invalid value \"%s\" for %s (%s): %s\n", p->name, value,
		setting_name(s, name, sizeof(name)), source, why);
	return -1;
}

void cfg_print_help(const cfg_program *p, FILE *out)
{
	bool file_only = false;

	fprintf(out,
		"Usage: %s [OPTION]...\n"
		"%s\n"
		"\n"
		"Each setting is taken from, in increasing priority: its default, the\n"
		"config file (lines \"key = value\", '#' starts a comment), its environment\n"
		"variable, and its option.\n"
		"\n"
		"Options:\n",
		p->name, p->summary);
	for (int i = 0; i < p->nsettings; i++) {
		const cfg_setting *s = &p->settings[i];
		const char *dflt = s->shown ? s->shown : s->dflt;
		char opt[64], where[160];

		if (!s->flag) {
			file_only = true;
			continue;
		}
		snprintf(opt, sizeof(opt), "--%s %s", s->flag, s->metavar);
		fprintf(out, "  %-34s %s\n", opt, s->help);
		if (dflt)
			fprintf(out, "  %-34s default: %s\n", "", *dflt ? dflt : "(empty)");
		snprintf(where, sizeof(where), "%s%s%s%s%s", s->env ? "env " : "",
			 s->env ? s->env : "", s->env && s->key ? ", " : "",
			 s->key ? "file key " : "", s->key ? s->key : "");
		if (*where)
			fprintf(out, "  %-34s %s\n", "", where);
	}
	fprintf(out, "  %-34s %s\n", "--config FILE", "read settings from FILE");
	if (p->config_env)
		fprintf(out, "  %-34s env %s\n", "", p->config_env);
	fprintf(out, "  %-34s %s\n", "-h, --help", "print this help and exit");
	fprintf(out, "  %-34s %s\n", "-V, --version", "print the version and exit");
	if (file_only) {
		fprintf(out, "\nConfig file keys without an option:\n");
		for (int i = 0; i < p->nsettings; i++) {
			const cfg_setting *s = &p->settings[i];
			const char *dflt = s->shown ? s->shown : s->dflt;
			if (s->flag)
				continue;
			fprintf(out, "  %-34s %s (default: %s)\n", s->key, s->help,
				dflt && *dflt ? dflt : "(empty)");
		}
	}
	if (p->epilog)
		fprintf(out, "\n%s\n", p->epilog);
}

/*
 * Split "key = value" in place. A value may be double-quoted to keep
 * surrounding spaces or a '#'; otherwise " #" starts a trailing comment.
 */
int cfg_parse_line(char *line, char **key, char **value, const char **err)
{
	char *p = line, *eq, *end;

	*key = *value = NULL;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	eq = strchr(p, '=');
	if (!eq) {
		*err = "expected \"key = value\"";
		return -1;
	}
	end = eq;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (end == p) {
		*err = "missing setting name before '='";
		return -1;
	}
	*key = p;

	p = eq + 1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		char *out = ++p, *val = p;
		for (;;) {
			if (*p == '\0' || *p == '\n') {
				*err = "unterminated quoted value";
				return -1;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*out++ = *p++;
		}
		*out = '\0';
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '\0' && *p != '#') {
			*err = "unexpected text after quoted value";
			return -1;
		}
		*value = val;
		return 0;
	}
	*value = p;
	for (end = p; *end; end++) {
		if (*end == '#' && (end == p || isspace((unsigned char)end[-1])))
			break;
	}
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return 0;
}

/* ---- sources ---- */

static int load_file(const cfg_program *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, plen = p->prefix ? strlen(p->prefix) : 0;
	int lineno = 0, rc = 0;

	if (!f) {
		fprintf(stderr, "%s: cannot open config file %s: %s\n", p->name, path,
			strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, f) != -1) {
		char *key, *value;
		const char *err = NULL;
		char source[PATH_MAX + 40];

		lineno++;
		if (cfg_parse_line(line, &key, &value, &err) < 0) {
			fprintf(stderr, "%s: config file %s line %d: %s\n", p->name, path, lineno,
				err);
			rc = -1;
			break;
		}
		if (!key)
			continue; /* blank or comment */
		snprintf(source, sizeof(source), "config file %s line %d", path, lineno);
		if (plen && strncmp(key, p->prefix, plen) == 0 && key[plen]) {
			char why[200] = "";
			if (p->set_prefixed(key + plen, value, why, sizeof(why)) < 0) {
				fprintf(stderr, "%s: invalid value \"%s\" for %s (%s): %s\n",
					p->name, value, key, source, why);
				rc = -1;
			}
			continue;
		}
		const cfg_setting *s = find_key(p, key);
		if (!s) {
			fprintf(stderr, "%s: config file %s line %d: unknown setting \"%s\"\n",
				p->name, path, lineno, key);
			rc = -1;
			break;
		}
		rc = cfg_apply(p, s, value, source);
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "%s: cannot read config file %s: %s\n", p->name, path,
			strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

static int load_env(const cfg_program *p)
{
	for (int i = 0; i < p->nsettings; i++) {
		const cfg_setting *s = &p->settings[i];
		char source[80];

		if (!s->env)
			continue;
		const char *v = getenv(s->env);
		if (!v || !*v)
			continue;
		snprintf(source, sizeof(source), "environment variable %s", s->env);
		if (cfg_apply(p, s, v, source) < 0)
			return -1;
	}
	return 0;
}

static const cfg_setting *find_key(const cfg_program *p, const char *key)
{
	for (int i = 0; i < p->nsettings; i++) {
		if (p->settings[i].key && strcmp(p->settings[i].key, key) == 0)
			return &p->settings[i];
	}
	return NULL;
}

/* ---- types ---- */

static int set_value(const cfg_setting *s, const char *v, char *why, size_t whylen)
{
	long n;
	bool b;

	switch (s->type) {
	case CFG_STR: {
		char *copy = strdup(v);
		if (!copy) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		free(*(char **)s->target);
		*(char **)s->target = copy;
		return 0;
	}
	case CFG_INT:
		if (cfg_parse_long(v, s->min, s->max, &n, why, whylen) < 0)
			return -1;
		*(int *)s->target = (int)n;
		return 0;
	case CFG_BOOL:
		if (parse_bool(v, &b) < 0) {
			snprintf(why, whylen, "expected true or false");
			return -1;
		}
		*(bool *)s->target = b;
		return 0;
	case CFG_ENUM: {
		size_t len = 0;
		for (const cfg_name *e = s->names; e->name; e++) {
			if (strcasecmp(v, e->name) == 0) {
				*(int *)s->target = e->value;
				return 0;
			}
		}
		len = (size_t)snprintf(why, whylen, "expected one of");
		for (const cfg_name *e = s->names; e->name && len < whylen; e++)
			len += (size_t)snprintf(why + len, whylen - len, " %s", e->name);
		return -1;
	}
	case CFG_CUSTOM:
		return s->set(v, why, whylen);
	}
	return -1;
}

int cfg_parse_long(const char *v, long min, long max, long *out, char *why, size_t whylen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno == ERANGE || n < min || n > max ||
	    isspace((unsigned char)*v)) {
		snprintf(why, whylen, "expected an integer from %ld to %ld", min, max);
		return -1;
	}
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static const char *setting_name(const cfg_setting *s, char *buf, size_t size)
{
	if (s->key)
		return s->key;
	snprintf(buf, size, "--%s", s->flag);
	return buf;
}
