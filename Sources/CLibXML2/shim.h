#ifndef KHAREETATY_CLIBXML2_SHIM_H
#define KHAREETATY_CLIBXML2_SHIM_H

/*
 * Debian's libxml2 headers include ICU's ucnv.h (through encoding.h), whose types clash with
 * the ICU that Foundation bundles ("'UErrorCode' has different definitions"). encoding.h only
 * needs two ICU names, so declare those behind ICU's own include guard and keep ucnv.h out.
 */
#ifndef UCNV_H
#define UCNV_H
#include <stdint.h>
typedef struct UConverter UConverter;
typedef uint16_t UChar;
#endif

#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* Swift 6 rejects libxml2's xmlFree (a global function-pointer variable) as not concurrency-safe. */
static inline void khareetaty_xml_free(void *p) { xmlFree(p); }

#endif
