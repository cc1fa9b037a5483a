// SPDX-License-Identifier: Apache-2.0
/*
 * The data directory, the local PKI and tc_api_handle without a socket:
 * files and modes on first run, a server certificate that chains to the
 * CA and names localhost, signed requests that reach the registry,
 * refused requests that do not, and AWS error shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "../test.h"
#include "thingcore/api.h"
#include "thingcore/apiclient.h"
#include "thingcore/datadir.h"
#include "thingcore/pki.h"

static int
mode_of(const char *dir, const char *name)
{
    char path[1200];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &st) != 0) {
        return -1;
    }
    return (int)(st.st_mode & 0777);
}

TC_TEST(datadir_create_then_load)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    struct tc_datadir dd;
    struct tc_datadir again;
    struct tc_datadir_created made;
    struct tc_datadir_options o = {0};
    size_t i;

    snprintf(path, sizeof(path), "%s/core", dir);
    o.api_port = 9443;
    CHECK_EQ_INT(tc_datadir_create(path, &o, &dd, &made, NULL), TC_OK);
    CHECK(made.directory && made.config && made.credentials && made.ca &&
          made.server_cert);
    CHECK_EQ_INT(dd.api_port, 9443);
    CHECK_EQ_INT(dd.mqtt_port, TC_DATADIR_DEFAULT_MQTT_PORT);
    CHECK_EQ_STR(dd.region, "us-east-1");
    CHECK_EQ_INT(strlen(dd.account), 12);
    CHECK_EQ_INT(strlen(dd.access_key_id), 20);
    CHECK(strncmp(dd.access_key_id, "AKIA", 4) == 0);
    CHECK_EQ_INT(strlen(dd.secret), 40);
    for (i = 0; i < 12; i++) {
        CHECK(dd.account[i] >= '0' && dd.account[i] <= '9');
    }
    CHECK_EQ_INT(mode_of(path, "credentials"), 0600);
    CHECK_EQ_INT(mode_of(path, "ca/ca.key"), 0600);
    CHECK_EQ_INT(mode_of(path, "api/server.key"), 0600);
    CHECK_EQ_INT(mode_of(path, "."), 0700);

    /* A second run keeps the key and the CA. */
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &again, &made, NULL), TC_OK);
    CHECK(!made.credentials && !made.ca && !made.server_cert);
    CHECK_EQ_STR(again.secret, dd.secret);
    CHECK_EQ_STR(again.account, dd.account);
    tc_datadir_clear(&again);

    CHECK_EQ_INT(tc_datadir_load(path, &again, NULL), TC_OK);
    CHECK_EQ_STR(again.access_key_id, dd.access_key_id);
    CHECK_EQ_INT(again.api_port, 9443);
    tc_datadir_clear(&again);
    CHECK_EQ_INT(again.secret[0], 0);
    tc_datadir_clear(&dd);
}

TC_TEST(datadir_rejects_bad_input)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    char file[1200];
    struct tc_datadir dd;
    struct tc_datadir_options o = {0};
    struct tc_detail d;
    FILE *f;

    snprintf(path, sizeof(path), "%s/nothing", dir);
    CHECK_EQ_INT(tc_datadir_load(path, &dd, &d), TC_ERR_API_DATADIR);
    CHECK(strstr(d.text, "thingcore up") != NULL);

    o.region = "US_EAST";
    CHECK_EQ_INT(tc_datadir_create(path, &o, &dd, NULL, &d),
                 TC_ERR_API_CONFIG);
    o.region = NULL;
    o.endpoint_host = "bad host";
    CHECK_EQ_INT(tc_datadir_create(path, &o, &dd, NULL, &d),
                 TC_ERR_API_CONFIG);

    /* A broken config.json is reported with its path. */
    snprintf(path, sizeof(path), "%s/broken", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &dd, NULL, NULL), TC_OK);
    tc_datadir_clear(&dd);
    snprintf(file, sizeof(file), "%s/config.json", path);
    f = fopen(file, "w");
    CHECK(f != NULL);
    fputs("{\"region\":\"us-east-1\",\"account\":\"12\"}", f);
    fclose(f);
    CHECK_EQ_INT(tc_datadir_load(path, &dd, &d), TC_ERR_API_CONFIG);
    CHECK(strstr(d.text, "account") != NULL);

    /* Credentials without a secret. */
    snprintf(path, sizeof(path), "%s/nocred", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &dd, NULL, NULL), TC_OK);
    tc_datadir_clear(&dd);
    snprintf(file, sizeof(file), "%s/credentials", path);
    f = fopen(file, "w");
    CHECK(f != NULL);
    fputs("[default]\naws_access_key_id = AKIAONLY\n", f);
    fclose(f);
    CHECK_EQ_INT(tc_datadir_load(path, &dd, &d), TC_ERR_API_DATADIR);
}

TC_TEST(pki_server_cert_chains_to_ca)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    char file[1200];
    struct tc_datadir dd;
    X509 *ca = NULL;
    X509 *srv = NULL;
    EVP_PKEY *key = NULL;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok;

    snprintf(path, sizeof(path), "%s/pki", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &dd, NULL, NULL), TC_OK);
    snprintf(file, sizeof(file), "%s/ca/ca.pem", path);
    CHECK_EQ_INT(tc_pki_cert_read(file, &ca, NULL), TC_OK);
    snprintf(file, sizeof(file), "%s/api/server.pem", path);
    CHECK_EQ_INT(tc_pki_cert_read(file, &srv, NULL), TC_OK);
    snprintf(file, sizeof(file), "%s/api/server.key", path);
    CHECK_EQ_INT(tc_pki_key_read(file, &key, NULL), TC_OK);
    CHECK(tc_pki_cert_matches_key(srv, key));
    CHECK(X509_check_ca(ca) == 1);
    CHECK(X509_check_ca(srv) == 0);
    CHECK(X509_check_host(srv, "localhost", 0, 0, NULL) == 1);
    CHECK(X509_check_ip_asc(srv, "127.0.0.1", 0) == 1);
    CHECK(X509_check_host(srv, "example.com", 0, 0, NULL) != 1);

    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX_init(ctx, store, srv, NULL);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    X509_free(srv);
    EVP_PKEY_free(key);
    tc_datadir_clear(&dd);
    CHECK_EQ_INT(ok, 1);
}

TC_TEST(pki_rejects_bad_specs)
{
    struct tc_pki_cert_spec spec = {0};
    const char *bad_dns[1] = {"a,DNS:evil.com"};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    struct tc_detail d;

    CHECK_EQ_INT(tc_pki_key_generate(&key, NULL), TC_OK);
    spec.days = 1;
    CHECK_EQ_INT(tc_pki_cert_issue(&spec, key, NULL, NULL, &cert, &d),
                 TC_ERR_ARG);
    spec.common_name = "x";
    spec.dns_names = bad_dns;
    spec.n_dns = 1;
    CHECK_EQ_INT(tc_pki_cert_issue(&spec, key, NULL, NULL, &cert, &d),
                 TC_ERR_ARG);
    CHECK(strstr(d.text, "evil") != NULL);
    CHECK(cert == NULL);
    spec.n_dns = 0;
    CHECK_EQ_INT(tc_pki_cert_issue(&spec, key, NULL, key, &cert, &d),
                 TC_ERR_ARG);
    EVP_PKEY_free(key);
}

/* A signed request through tc_api_handle. */
struct harness {
    struct tc_datadir dd;
    struct tc_api *api;
};

static int
call(struct harness *h, const char *method, const char *target,
     const char *body, const char *secret, double skew,
     struct tc_api_response *resp)
{
    struct tc_sigv4_header hs[4] = {{"host", "127.0.0.1:1"}};
    struct tc_sigv4_request sr;
    struct tc_sigv4_signature sig;
    struct tc_api_request req;
    char path[512];
    char hash[65];
    const char *q = strchr(target, '?');
    double now = tc_now();

    snprintf(path, sizeof(path), "%.*s",
             (int)(q ? (size_t)(q - target) : strlen(target)), target);
    tc_sigv4_sha256_hex(body, strlen(body), hash);
    sr.method = method;
    sr.path = path;
    sr.query = q ? q + 1 : NULL;
    sr.headers = hs;
    sr.n_headers = 1;
    sr.payload_hash = hash;
    if (tc_sigv4_sign(&sr, h->dd.access_key_id, secret, h->dd.region,
                      "execute-api", (time_t)(now + skew), &sig,
                      NULL) != TC_OK) {
        return -1;
    }
    hs[1].name = "X-Amz-Date";
    hs[1].value = sig.amz_date;
    hs[2].name = "Authorization";
    hs[2].value = sig.authorization;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.target = target;
    req.headers = hs;
    req.n_headers = 3;
    req.body = body;
    req.body_len = strlen(body);
    return tc_api_handle(h->api, &req, resp);
}

static json_t *
body_of(const struct tc_api_response *r)
{
    return json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
}

TC_TEST(api_handle_create_describe_and_errors)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    struct harness h;
    struct tc_api_response r;
    json_t *j;

    snprintf(path, sizeof(path), "%s/core", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &h.dd, NULL, NULL), TC_OK);
    CHECK_EQ_INT(tc_api_new(&h.dd, NULL, &h.api, NULL), TC_OK);

    CHECK_EQ_INT(call(&h, "POST", "/things/t1",
                      "{\"attributePayload\":{\"attributes\":{\"a\":\"1\"}}}",
                      h.dd.secret, 0, &r),
                 TC_OK);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.operation, "CreateThing");
    CHECK_EQ_STR(r.access_key_id, h.dd.access_key_id);
    j = body_of(&r);
    CHECK(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "thingName")), "t1");
    json_decref(j);
    tc_api_response_clear(&r);

    /* Conflict: 409 with resourceId. */
    CHECK_EQ_INT(call(&h, "POST", "/things/t1",
                      "{\"attributePayload\":{\"attributes\":{\"a\":\"2\"}}}",
                      h.dd.secret, 0, &r),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_INT(r.status, 409);
    CHECK_EQ_STR(r.error_type, "ResourceAlreadyExistsException");
    j = body_of(&r);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "resourceId")), "t1");
    CHECK(json_string_value(json_object_get(j, "message")) != NULL);
    json_decref(j);
    tc_api_response_clear(&r);

    /* Refusals never reach the registry. */
    CHECK_EQ_INT(call(&h, "POST", "/things/t2", "{}", "wrong-secret", 0, &r),
                 TC_ERR_API_SIGNATURE);
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_STR(r.error_type, "UnauthorizedException");
    tc_api_response_clear(&r);
    CHECK_EQ_INT(call(&h, "POST", "/things/t2", "{}", h.dd.secret, -900, &r),
                 TC_ERR_API_CLOCK_SKEW);
    tc_api_response_clear(&r);
    CHECK_EQ_INT(call(&h, "GET", "/things/t2", "", h.dd.secret, 0, &r),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(r.status, 404);
    tc_api_response_clear(&r);

    /* Bodies and queries. */
    CHECK_EQ_INT(call(&h, "POST", "/things/t3", "{\"a\":", h.dd.secret, 0,
                      &r),
                 TC_ERR_PARSE);
    CHECK_EQ_INT(r.status, 400);
    CHECK_EQ_STR(r.error_type, "InvalidRequestException");
    tc_api_response_clear(&r);
    CHECK_EQ_INT(call(&h, "POST", "/things/t3", "[1]", h.dd.secret, 0, &r),
                 TC_ERR_API_BAD_REQUEST);
    CHECK_EQ_INT(r.status, 400);
    tc_api_response_clear(&r);
    CHECK_EQ_INT(call(&h, "GET", "/things?maxResults=251", "", h.dd.secret,
                      0, &r),
                 TC_ERR_API_BAD_REQUEST);
    tc_api_response_clear(&r);
    CHECK_EQ_INT(call(&h, "GET", "/things/%zz", "", h.dd.secret, 0, &r),
                 TC_ERR_API_NO_ROUTE);
    CHECK_EQ_INT(r.status, 404);
    tc_api_response_clear(&r);
    CHECK_EQ_INT(call(&h, "GET", "/endpoint?endpointType=iot%3AData-ATS", "",
                      h.dd.secret, 0, &r),
                 TC_OK);
    j = body_of(&r);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "endpointAddress")),
                 "localhost");
    json_decref(j);
    tc_api_response_clear(&r);

    tc_api_free(h.api);
    tc_datadir_clear(&h.dd);
}

TC_TEST(api_body_limit)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    struct harness h;
    struct tc_api_response r;
    struct tc_api_options o = {0};
    char *big = malloc(2048);

    CHECK(big != NULL);
    memset(big, ' ', 2047);
    big[0] = '{';
    big[2046] = '}';
    big[2047] = '\0';
    snprintf(path, sizeof(path), "%s/core", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &h.dd, NULL, NULL), TC_OK);
    o.max_body = 1024;
    CHECK_EQ_INT(tc_api_new(&h.dd, &o, &h.api, NULL), TC_OK);
    CHECK_EQ_INT(call(&h, "POST", "/things/big", big, h.dd.secret, 0, &r),
                 TC_ERR_API_BODY_TOO_BIG);
    CHECK_EQ_INT(r.status, 413);
    tc_api_response_clear(&r);
    free(big);
    tc_api_free(h.api);
    tc_datadir_clear(&h.dd);
}

TC_TEST(api_error_table_round_trip)
{
    static const char *const types[] = {
        "ResourceNotFoundException", "ResourceAlreadyExistsException",
        "DeleteConflictException", "CertificateStateException",
        "VersionsLimitExceededException", "MalformedPolicyException",
        "RegistrationCodeValidationException", "UnauthorizedException",
        "InvalidRequestException",
    };
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        CHECK(tc_api_error_code(types[i]) != TC_ERR_API_REMOTE);
    }
    CHECK_EQ_INT(tc_api_error_code("ResourceNotFoundException"),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_api_error_code("NoSuchThing"), TC_ERR_API_REMOTE);
}

TC_TEST(apiclient_escape_and_url)
{
    char out[64];
    struct tc_apiclient *c = NULL;
    struct tc_apiclient_config cfg = {0};
    struct tc_detail d;

    CHECK_EQ_INT(tc_apiclient_escape("arn:aws:iot/x y", out, sizeof(out)),
                 TC_OK);
    CHECK_EQ_STR(out, "arn%3Aaws%3Aiot%2Fx%20y");
    CHECK_EQ_INT(tc_apiclient_escape("abcdef", out, 4), TC_ERR_TOO_BIG);

    cfg.access_key_id = "AKIA";
    cfg.secret = "s";
    cfg.region = "r";
    cfg.endpoint_url = "ftp://x";
    CHECK_EQ_INT(tc_apiclient_new(&cfg, &c, &d), TC_ERR_ARG);
    cfg.endpoint_url = "https://[::1";
    CHECK_EQ_INT(tc_apiclient_new(&cfg, &c, &d), TC_ERR_ARG);
    cfg.endpoint_url = "http://127.0.0.1:1";
    CHECK_EQ_INT(tc_apiclient_new(&cfg, &c, &d), TC_OK);

    /* Nothing listens on port 1: a connect error, not a crash. */
    CHECK_EQ_INT(tc_apiclient_call(c, "GET", "/things", NULL, NULL, 0, NULL,
                                   NULL, NULL, &d),
                 TC_ERR_API_CONNECT);
    tc_apiclient_free(c);
}

/* The client against the real server in this process, over HTTPS. */
TC_TEST(apiclient_against_server)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    char url[64];
    struct tc_datadir dd;
    struct tc_api_server_config cfg;
    struct tc_api_server *srv = NULL;
    struct tc_apiclient *c = NULL;
    struct tc_apiclient_config bad = {0};
    struct tc_apiclient_error err;
    struct tc_detail d;
    json_t *body = json_pack("{s:{s:{s:s}}}", "attributePayload",
                             "attributes", "k", "v");
    json_t *body2 = json_pack("{s:{s:{s:s}}}", "attributePayload",
                              "attributes", "k", "w");
    json_t *out = NULL;
    int i;

    snprintf(path, sizeof(path), "%s/core", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &dd, NULL, NULL), TC_OK);
    dd.api_port = 0;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dd = &dd;
    cfg.threads = 2;
    CHECK_EQ_INT(tc_api_server_start(&cfg, &srv, &d), TC_OK);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d",
             tc_api_server_port(srv));
    CHECK_EQ_INT(tc_apiclient_for_datadir(&dd, url, &c, &d), TC_OK);

    /* Several calls on one kept-alive connection. */
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(tc_apiclient_call(c, "POST", "/things/c1", NULL, NULL,
                                       0, body, &out, &err, &d),
                     TC_OK);
        CHECK_EQ_STR(json_string_value(json_object_get(out, "thingName")),
                     "c1");
        json_decref(out);
    }
    CHECK_EQ_INT(tc_apiclient_call(c, "POST", "/things/c1", NULL, NULL, 0,
                                   body2, &out, &err, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_INT(err.status, 409);
    CHECK_EQ_STR(err.type, "ResourceAlreadyExistsException");
    CHECK_EQ_STR(err.resource_id, "c1");
    CHECK(err.message[0] != '\0');
    CHECK_EQ_INT(tc_apiclient_call(c, "GET", "/things/none", NULL, NULL, 0,
                                   NULL, &out, &err, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_apiclient_call(c, "GET", "/things", "maxResults=1", NULL,
                                   0, NULL, &out, &err, &d),
                 TC_OK);
    CHECK_EQ_INT(json_array_size(json_object_get(out, "things")), 1);
    json_decref(out);
    tc_apiclient_free(c);

    /* A wrong secret, and a server the CA bundle does not vouch for. */
    bad.endpoint_url = url;
    bad.access_key_id = dd.access_key_id;
    bad.secret = "not-the-secret-not-the-secret-not-the-se";
    bad.region = dd.region;
    snprintf(path, sizeof(path), "%s/core/ca/ca.pem", dir);
    bad.ca_file = path;
    CHECK_EQ_INT(tc_apiclient_new(&bad, &c, &d), TC_OK);
    CHECK_EQ_INT(tc_apiclient_call(c, "GET", "/things", NULL, NULL, 0, NULL,
                                   NULL, &err, &d),
                 TC_ERR_API_SIGNATURE);
    CHECK_EQ_STR(err.type, "UnauthorizedException");
    tc_apiclient_free(c);
    snprintf(path, sizeof(path), "%s/core/api/server.pem", dir);
    bad.secret = dd.secret;
    bad.ca_file = "/dev/null";
    CHECK(tc_apiclient_new(&bad, &c, &d) != TC_OK ||
          tc_apiclient_call(c, "GET", "/things", NULL, NULL, 0, NULL, NULL,
                            &err, &d) == TC_ERR_API_TLS);
    tc_apiclient_free(c);

    tc_api_server_stop(srv);
    json_decref(body);
    json_decref(body2);
    tc_datadir_clear(&dd);
}

TC_TEST(api_refuses_bad_targets_and_configs)
{
    const char *dir = tc_test_tmpdir();
    char path[1100];
    struct harness h;
    struct tc_api_response r;
    struct tc_api_server_config cfg;
    struct tc_api_server *srv = NULL;
    struct tc_detail d;

    snprintf(path, sizeof(path), "%s/core", dir);
    CHECK_EQ_INT(tc_datadir_create(path, NULL, &h.dd, NULL, NULL), TC_OK);
    CHECK_EQ_INT(tc_api_new(&h.dd, NULL, &h.api, NULL), TC_OK);
    CHECK_EQ_INT(call(&h, "GET", "things", "", h.dd.secret, 0, &r),
                 TC_ERR_API_HTTP);
    CHECK_EQ_INT(r.status, 400);
    tc_api_response_clear(&r);
    tc_api_free(h.api);

    /* Plain HTTP off loopback, and an address that is not one. */
    memset(&cfg, 0, sizeof(cfg));
    cfg.dd = &h.dd;
    cfg.plain_http = 1;
    cfg.bind_address = "0.0.0.0";
    CHECK_EQ_INT(tc_api_server_start(&cfg, &srv, &d), TC_ERR_API_CONFIG);
    CHECK(srv == NULL);
    cfg.bind_address = "localhost";
    CHECK_EQ_INT(tc_api_server_start(&cfg, &srv, &d), TC_ERR_API_CONFIG);
    tc_datadir_clear(&h.dd);
}
