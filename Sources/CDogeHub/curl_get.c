#include "CDogeHub.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// libcurl's ABI (curl/curl.h): option numbers are type base + index; setopt/getinfo are variadic,
// so they are called from C, where the variadic call is made correctly.
enum {
    OPT_WRITEDATA = 10001, OPT_URL = 10002, OPT_ERRORBUFFER = 10010, OPT_USERAGENT = 10018,
    OPT_HTTPHEADER = 10023, OPT_WRITEFUNCTION = 20011, OPT_LOW_SPEED_LIMIT = 19, OPT_LOW_SPEED_TIME = 20,
    OPT_FOLLOWLOCATION = 52, OPT_CONNECTTIMEOUT = 78, OPT_NOSIGNAL = 99,
    INFO_RESPONSE_CODE = 0x200002, GLOBAL_ALL = 3
};

typedef void CURL;
struct curl_slist;
static struct {
    int (*global_init)(long);
    CURL *(*easy_init)(void);
    int (*easy_setopt)(CURL *, int, ...);
    int (*easy_getinfo)(CURL *, int, ...);
    int (*easy_perform)(CURL *);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    const char *(*easy_strerror)(int);
} curl;
static int loaded = 0;
static char load_error[256] = "libcurl not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    const char *names[] = {"libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4", "libcurl.4.dylib", "/usr/lib/libcurl.4.dylib"};
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error, "libcurl was not found (Debian/Ubuntu: apt install libcurl4)");
        return;
    }
#define SYM(field, name) if (!(*(void **)&curl.field = dlsym(h, name))) { \
        snprintf(load_error, sizeof load_error, "libcurl lacks %s", name); return; }
    SYM(global_init, "curl_global_init") SYM(easy_init, "curl_easy_init") SYM(easy_setopt, "curl_easy_setopt")
    SYM(easy_getinfo, "curl_easy_getinfo") SYM(easy_perform, "curl_easy_perform") SYM(easy_cleanup, "curl_easy_cleanup")
    SYM(slist_append, "curl_slist_append") SYM(slist_free_all, "curl_slist_free_all") SYM(easy_strerror, "curl_easy_strerror")
#undef SYM
    if (curl.global_init(GLOBAL_ALL) != 0) { snprintf(load_error, sizeof load_error, "curl_global_init failed"); return; }
    loaded = 1;
}

int dh_curl_available(void) { pthread_once(&once, load); return loaded; }
const char *dh_curl_error(void) { return load_error; }

struct sink { CURL *handle; dh_data_fn on_data; void *ctx; };

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
    struct sink *s = userdata;
    long status = 0;
    curl.easy_getinfo(s->handle, INFO_RESPONSE_CODE, &status);
    return s->on_data(s->ctx, status, data, size * nmemb);
}

int dh_curl_get(const char *url, const char *const *headers, int nheaders, long connect_timeout_s, dh_data_fn on_data, void *ctx, long *status, char *error) {
    error[0] = 0;
    *status = 0;
    if (!dh_curl_available()) { snprintf(error, 256, "%s", load_error); return -1; }
    CURL *h = curl.easy_init();
    if (!h) { snprintf(error, 256, "curl_easy_init failed"); return -1; }
    struct curl_slist *list = NULL;
    for (int i = 0; i < nheaders; i++) list = curl.slist_append(list, headers[i]);
    struct sink s = {h, on_data, ctx};
    char buffer[256] = "";
    curl.easy_setopt(h, OPT_URL, url);
    curl.easy_setopt(h, OPT_HTTPHEADER, list);
    curl.easy_setopt(h, OPT_USERAGENT, "swift-doge");
    curl.easy_setopt(h, OPT_FOLLOWLOCATION, 1L);
    curl.easy_setopt(h, OPT_NOSIGNAL, 1L);
    curl.easy_setopt(h, OPT_CONNECTTIMEOUT, connect_timeout_s);
    curl.easy_setopt(h, OPT_LOW_SPEED_LIMIT, 1L);      // give up after a minute without a byte
    curl.easy_setopt(h, OPT_LOW_SPEED_TIME, 60L);
    curl.easy_setopt(h, OPT_ERRORBUFFER, buffer);
    curl.easy_setopt(h, OPT_WRITEFUNCTION, write_cb);
    curl.easy_setopt(h, OPT_WRITEDATA, &s);
    int code = curl.easy_perform(h);
    curl.easy_getinfo(h, INFO_RESPONSE_CODE, status);
    if (code != 0) snprintf(error, 256, "%s", buffer[0] ? buffer : curl.easy_strerror(code));
    curl.easy_cleanup(h);
    curl.slist_free_all(list);
    return code;
}
