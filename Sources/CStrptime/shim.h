#include <time.h>

/* POSIX strptime, from the C library (glibc): its header declares it only under _XOPEN_SOURCE,
   which Swift's Glibc module is not built with, so it is declared here with POSIX's signature. */
char *strptime(const char *restrict s, const char *restrict format, struct tm *restrict tm);

static inline char *khareetaty_strptime(const char *s, const char *format, struct tm *tm) {
    return strptime(s, format, tm);
}
