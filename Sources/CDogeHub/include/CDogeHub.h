#ifndef CDOGEHUB_H
#define CDOGEHUB_H
#include <stddef.h>

/// HTTP GETs through libcurl loaded at run time (dlopen): no build-time dependency, and a
/// statically linked doge still downloads over https. See curl_get.c.

/// 1 when libcurl could be loaded (the reason otherwise in dh_curl_error()).
int dh_curl_available(void);
const char *dh_curl_error(void);

/// Receives the body in pieces with the HTTP status of the response they belong to (after
/// redirects). Return n to continue, anything else to abort the transfer.
typedef size_t (*dh_data_fn)(void *ctx, long status, const char *data, size_t n);

/// GET `url` with `nheaders` "Name: value" lines, following redirects. Returns libcurl's
/// CURLcode (0 = the transfer completed) and sets *status to the HTTP status; `error` (at least
/// 256 bytes) receives libcurl's message on failure.
int dh_curl_get(const char *url, const char *const *headers, int nheaders, long connect_timeout_s, dh_data_fn on_data, void *ctx, long *status, char *error);

#endif
