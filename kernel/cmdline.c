// Kernel command line options. cmdline_parse() copies the loader's string into a private
// buffer, cuts it into words in place and records where each name and value starts;
// lookups scan that table. If an option appears more than once the last one wins, so an
// option appended by a test runner overrides the default before it.
//
// Context: cmdline_parse runs once at boot before other CPUs and tasks exist; after that
// the table is never written, so lookups need no lock and may run in any context.

#include <trapeze/cmdline.h>
#include <trapeze/string.h>

// A word takes at least one byte and one separator.
#define CMDLINE_MAX_OPTIONS (BOOT_CMDLINE_MAX / 2)

struct cmdline_option {
	const char *name;  // NUL-terminated, inside cmdline_buf
	const char *value; // after the '=', or "" for a bare name
};

static char cmdline_buf[BOOT_CMDLINE_MAX];
static struct cmdline_option cmdline_options[CMDLINE_MAX_OPTIONS];
static int cmdline_nr_options;

static bool cmdline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Record the word starting at word (NUL-terminated in cmdline_buf). Only the first '='
// splits: "init=/bin/sh=x" has the value "/bin/sh=x".
static void cmdline_add(char *word)
{
	struct cmdline_option *opt = &cmdline_options[cmdline_nr_options++];
	char *eq = strchr(word, '=');

	opt->name = word;
	opt->value = "";
	if (eq) {
		*eq = '\0';
		opt->value = eq + 1;
	}
}

void cmdline_parse(const char *cmdline)
{
	char *p = cmdline_buf;

	cmdline_nr_options = 0;
	strlcpy(cmdline_buf, cmdline ? cmdline : "", sizeof(cmdline_buf));
	for (;;) {
		char *word;

		while (cmdline_is_space(*p))
			*p++ = '\0';
		if (!*p)
			break;
		word = p;
		while (*p && !cmdline_is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
		cmdline_add(word);
	}
}

const char *cmdline_get(const char *name)
{
	for (int i = cmdline_nr_options - 1; i >= 0; i--) {
		if (strcmp(cmdline_options[i].name, name) == 0)
			return cmdline_options[i].value;
	}
	return NULL;
}

bool cmdline_has(const char *name)
{
	return cmdline_get(name) != NULL;
}
