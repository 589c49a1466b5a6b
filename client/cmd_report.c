/* cmd_report.c - `rove report ...` (being written). */
#include "cli.h"
#include "log.h"

int cmd_report(rove_cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	rove_error("report: not available yet");
	return ROVE_EXIT_FAIL;
}
