/* semver.c: not written yet */
