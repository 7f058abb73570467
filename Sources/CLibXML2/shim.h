#ifndef CLIBXML2_SHIM_H
#define CLIBXML2_SHIM_H
#include <dlfcn.h>
#include <stddef.h>

/* libxml2's HTML parser, loaded with dlopen when a web page is read, not linked: Debian's
   libxml2 links ICU and libstdc++, which every margin command would otherwise load at
   start-up. The parser runs as a SAX push parser (htmlCreatePushParserCtxt,
   htmlCtxtUseOptions, htmlParseChunk, htmlFreeParserCtxt): it reports elements and text as
   it reads them, its recovery from broken markup included, and margin builds its own tree;
   libxml2 builds none.

   The SAX handler is declared here rather than by including libxml2's headers, whose ICU
   declarations clash with the copy of ICU that Foundation brings. It is struct
   _xmlSAXHandler of parser.h, whole and in order (unchanged since libxml2 2.6; libxml2
   copies all of it): the callbacks margin sets are typed, the others are left NULL. */

typedef unsigned char cxml_char;

typedef void (*cxml_start_element)(void *context, const cxml_char *name, const cxml_char **attributes);
typedef void (*cxml_end_element)(void *context, const cxml_char *name);
typedef void (*cxml_characters)(void *context, const cxml_char *text, int length);

typedef struct cxml_sax_handler {
    void *internalSubset;
    void *isStandalone;
    void *hasInternalSubset;
    void *hasExternalSubset;
    void *resolveEntity;
    void *getEntity;
    void *entityDecl;
    void *notationDecl;
    void *attributeDecl;
    void *elementDecl;
    void *unparsedEntityDecl;
    void *setDocumentLocator;
    void *startDocument;
    void *endDocument;
    cxml_start_element startElement;
    cxml_end_element endElement;
    void *reference;
    cxml_characters characters;
    cxml_characters ignorableWhitespace;
    void *processingInstruction;
    void *comment;
    void *warning;
    void *error;
    void *fatalError;
    void *getParameterEntity;
    cxml_characters cdataBlock;
    void *externalSubset;
    unsigned int initialized;
    void *private_data;
    void *startElementNs;
    void *endElementNs;
    void *serror;
} cxml_sax_handler;

typedef struct cxml_api {
    void *(*create_push_parser)(cxml_sax_handler *sax, void *user_data, const char *chunk, int size, const char *filename,
                                int encoding);
    int (*use_options)(void *parser, int options);
    int (*parse_chunk)(void *parser, const char *chunk, int size, int terminate);
    void (*free_parser)(void *parser);
} cxml_api;

/* Loads libxml2 and fills `api`; returns 0 on success, or -1 (see dlerror). */
static inline int cxml_load(cxml_api *api) {
    void *library = dlopen("libxml2.so.2", RTLD_LAZY | RTLD_LOCAL);
    if (library == NULL) library = dlopen("libxml2.so", RTLD_LAZY | RTLD_LOCAL);
    if (library == NULL) return -1;
    api->create_push_parser = (void *(*)(cxml_sax_handler *, void *, const char *, int, const char *, int))dlsym(
        library, "htmlCreatePushParserCtxt");
    api->use_options = (int (*)(void *, int))dlsym(library, "htmlCtxtUseOptions");
    api->parse_chunk = (int (*)(void *, const char *, int, int))dlsym(library, "htmlParseChunk");
    api->free_parser = (void (*)(void *))dlsym(library, "htmlFreeParserCtxt");
    /* libxml2 sets up its globals on first use, which threads must not race to do:
       once, here (margin reads pages on several threads). */
    void (*init_parser)(void) = (void (*)(void))dlsym(library, "xmlInitParser");
    if (init_parser == NULL) return -1;
    init_parser();
    return (api->create_push_parser != NULL && api->use_options != NULL && api->parse_chunk != NULL
            && api->free_parser != NULL) ? 0 : -1;
}

/* xmlCharEncoding XML_CHAR_ENCODING_UTF8: margin hands the parser UTF-8. */
static inline int cxml_utf8(void) { return 1; }

/* htmlParserOption: recover from broken markup as a browser would (RECOVER), say nothing
   (NOERROR, NOWARNING), never touch the network (NONET), add no DOCTYPE (NODEFDTD), and
   take the text as the encoding given whatever the page declares (IGNORE_ENC: margin has
   decoded it to UTF-8 already). */
static inline int cxml_html_options(void) {
    return (1 << 0) | (1 << 5) | (1 << 6) | (1 << 11) | (1 << 2) | (1 << 21);
}
#endif
