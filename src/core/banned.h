/*
 * banned.h - functions that must not be used in this code base.
 *
 * Included last by src/core/internal.h, after the system headers, which
 * every source file includes first. Each banned
 * name expands to an undeclared identifier, so a use is a compile error that
 * names the reason.
 */
#ifndef GM_BANNED_H
#define GM_BANNED_H

#define GM_BANNED(func) sorry_##func##_is_banned_use_a_bounded_alternative

#undef strcpy
#define strcpy(x, y) GM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) GM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) GM_BANNED(strncpy)
#undef sprintf
#define sprintf(...) GM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) GM_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) GM_BANNED(strtok)
#undef atoi
#define atoi(x) GM_BANNED(atoi)
#undef gmtime
#define gmtime(x) GM_BANNED(gmtime)
#undef localtime
#define localtime(x) GM_BANNED(localtime)
#undef gets
#define gets(x) GM_BANNED(gets)

#endif
