/*
 * ggen.c - the `ggen` front end: argument parsing and output only; all work
 * is done by the library.
 */
#include "internal.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("ggen %s\n", GM_VERSION_STRING);
		return 0;
	}
	fprintf(stderr, "usage: ggen market <verb> [options]\n");
	return 2;
}
