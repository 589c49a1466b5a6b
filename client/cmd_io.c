/* cmd_io.c - `rove import` and `rove export` (being written). */
#include "cli.h"
#include "log.h"

int cmd_import(rove_cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	rove_error("import: not available yet");
	return ROVE_EXIT_FAIL;
}

int cmd_export(rove_cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	rove_error("export: not available yet");
	return ROVE_EXIT_FAIL;
}
