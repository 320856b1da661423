#ifndef PGK_CONFIG_DOC_H
#define PGK_CONFIG_DOC_H

/* The documentation DescribeConfigs gives for a config, NULL if none. */
const char *config_documentation(const char *name);

#endif
