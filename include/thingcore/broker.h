/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data plane's supervisor: everything needed to run Eclipse Mosquitto
 * with thingcore's plugin. It writes the broker's configuration, keeps a
 * hashed CA directory (capath) in step with the registry so that a CA
 * registered through the API is trusted by the running broker at the next
 * handshake, issues the broker's server certificate and the operator's
 * client certificate, and starts, watches, restarts and stops the
 * mosquitto child. It does not authenticate or authorize anything: that
 * is the plugin's job (src/plugin), inside the broker process.
 *
 * Files, relative to the data directory:
 *   broker/mosquitto.conf   generated at every start
 *   broker/server.key/.pem  the endpoint's server certificate (local CA)
 *   broker/trust.d/         hashed CA directory (<subject hash>.<n>)
 *   operator/operator.key/.pem  operator client certificate, registered
 *                           ACTIVE with the policy TC_BROKER_OPERATOR_POLICY
 *   trust/ (*.pem, *.crt)   optional extra trust anchors (roots of
 *                           registered CAs, such as a manufacturer's root)
 *
 * Ownership: configuration strings are borrowed for the call that takes
 * them (tc_broker_start copies what it keeps). A struct tc_broker is owned
 * by the caller and freed by tc_broker_stop.
 *
 * Limitations: one listener; files are only ever added to the hashed CA
 * directory while the broker runs (OpenSSL keeps what it loaded, so a
 * removal would not revoke anything anyway: the plugin's registry check
 * does); the directory is rebuilt from the registry at each start.
 */
#ifndef THINGCORE_BROKER_H
#define THINGCORE_BROKER_H

#include <stddef.h>
#include <sys/types.h>

#include "thingcore/err.h"

struct tc_registry;
struct tc_datadir;

#define TC_BROKER_PATH_MAX 1100
#define TC_BROKER_MOSQUITTO "/usr/sbin/mosquitto"
#define TC_BROKER_OPERATOR_POLICY "thingcore-operator"
#define TC_BROKER_CONF "broker/mosquitto.conf"
#define TC_BROKER_SERVER_KEY "broker/server.key"
#define TC_BROKER_SERVER_CERT "broker/server.pem"
#define TC_BROKER_CAPATH "broker/trust.d"
#define TC_BROKER_OPERATOR_KEY "operator/operator.key"
#define TC_BROKER_OPERATOR_CERT "operator/operator.pem"
#define TC_BROKER_ANCHORS "trust"
/* The file descriptor limit the broker asks for (bounded by the hard one). */
#define TC_BROKER_NOFILE 65536

/* How to run the broker; zero it, then set what you need. */
struct tc_broker_config {
    const char *data_dir;      /* required: the data directory */
    const char *registry_path; /* NULL: <data_dir>/registry.db */
    const char *bind;          /* listener address; NULL: every address */
    int port;                  /* required: TLS listener port */
    const char *mosquitto;     /* NULL: TC_BROKER_MOSQUITTO */
    const char *plugin;        /* required: path of thingcore-plugin.so */
    const char *log_level;     /* plugin: error|warning|notice|info|debug */
    const char *preload;       /* LD_PRELOAD for the child only, or NULL */
    int quiet;                 /* mosquitto logs errors and warnings only */
};

/* What one supervision step saw; filled by tc_broker_poll. */
struct tc_broker_status {
    pid_t pid;       /* the running child, 0 while waiting to restart */
    int exited;      /* the child ended since the last step */
    int exit_status; /* its wait status (WIFEXITED / WIFSIGNALED) */
    int restarted;   /* a new child was started in this step */
    int restarts;    /* restarts so far */
    int trust_added; /* files added to the hashed CA directory */
};

struct tc_broker;

/*
 * Make sure the broker's server certificate exists: a P-256 key and a
 * certificate from the data directory's local CA with subjectAltName DNS
 * localhost and the endpoint host, IP 127.0.0.1 and ::1. Made once, kept.
 */
int tc_broker_server_cert_ensure(const struct tc_datadir *dd,
                                 struct tc_detail *d);

/*
 * Make sure the operator client certificate exists and is registered
 * ACTIVE in reg with the operator policy attached (the role of the AWS
 * console's MQTT test client: connect with any client ID, subscribe to
 * $aws/events and to any filter, receive and publish any device topic).
 * *created (may be NULL) is set when anything was made now.
 */
int tc_broker_operator_ensure(const struct tc_datadir *dd,
                              struct tc_registry *reg, int *created,
                              struct tc_detail *d);

/* The operator policy document for region and account into out (cap). */
int tc_broker_operator_policy(const char *region, const char *account,
                              char *out, size_t cap);

/*
 * Bring the hashed CA directory dir in step with reg: every ACTIVE
 * registered CA, the chains of registered certificates (when the registry
 * provides them), the data directory's local CA (ca_file, may be NULL),
 * and, for each of those that is not self-signed, its issuers up to a
 * self-signed root found among them or in anchors_dir (may be NULL).
 * With rebuild != 0 the directory is emptied first (at start); otherwise
 * files are only added. *added (may be NULL) counts new files.
 */
int tc_broker_trust_sync(struct tc_registry *reg, const char *dir,
                         const char *ca_file, const char *anchors_dir,
                         int rebuild, int *added, struct tc_detail *d);

/*
 * Write the mosquitto configuration for c to path (atomically). The
 * listener requires a client certificate, TLS 1.2 or newer, trusts the
 * hashed directory, and loads the plugin with the registry path.
 */
int tc_broker_write_config(const struct tc_broker_config *c, const char *path,
                           struct tc_detail *d);

/*
 * Raise the soft RLIMIT_NOFILE to want (bounded by the hard limit); *got
 * (may be NULL) receives the soft limit in force afterwards.
 */
int tc_broker_raise_nofile(unsigned long want, unsigned long *got);

/*
 * Prepare everything (server certificate, trust directory, configuration,
 * file descriptor limit) and start mosquitto. *out is handed to the caller;
 * release it with tc_broker_stop. The child's output goes to our stderr.
 */
int tc_broker_start(const struct tc_broker_config *c, struct tc_broker **out,
                    struct tc_detail *d);

/*
 * One supervision step; call it a few times a second. Reaps an ended
 * child and restarts it (at once the first time, then with a growing
 * delay up to 30 s while it keeps failing), and follows the registry's
 * event log to add newly registered CAs to the trust directory. st (may be
 * NULL) says what happened, for the caller to log.
 */
int tc_broker_poll(struct tc_broker *b, struct tc_broker_status *st,
                   struct tc_detail *d);

/* The child's pid, or 0. */
pid_t tc_broker_pid(const struct tc_broker *b);

/* Ask the child to reload its configuration (SIGHUP). */
int tc_broker_reload(struct tc_broker *b);

/*
 * Stop the child (SIGTERM, then SIGKILL after five seconds) and free b
 * (NULL accepted).
 */
void tc_broker_stop(struct tc_broker *b);

/* ------------------------------------------------------------------ */
/* Just-in-time provisioning templates */

/*
 * The values a template's AWS::IoT::Certificate::* parameters take, from
 * the device certificate; each borrowed, NULL when the certificate lacks
 * the field (the parameter's Default then applies).
 */
struct tc_jitp_params {
    const char *common_name;
    const char *serial_number; /* subject serialNumber attribute */
    const char *id;            /* certificate id */
    const char *country;
    const char *organization;
    const char *organizational_unit;
    const char *dn_qualifier;
    const char *state_name;
};

/* What a template provisions; every pointer owned (tc_jitp_plan_clear). */
struct tc_jitp_plan {
    char *thing_name;  /* NULL: the template makes no thing */
    char *thing_type;  /* NULL: none */
    char **attr_names; /* n_attrs thing attributes */
    char **attr_values;
    size_t n_attrs;
    char *policy_name; /* NULL: no policy resource */
    char *policy_doc;  /* NULL: attach the existing policy_name */
    int cert_status;   /* TC_REG_CERT_ACTIVE unless the template says */
};

#define TC_JITP_VALUE_MAX 4096 /* longest string an expression may yield */
#define TC_JITP_LIST_MAX 128   /* longest list Fn::Split may yield */
#define TC_JITP_DEPTH_MAX 16   /* nesting of intrinsic functions */

/*
 * Evaluate a provisioning template body (len bytes of JSON, borrowed) for
 * one certificate. Supports Parameters (with Default), Resources of type
 * AWS::IoT::Thing (ThingName, ThingTypeName, AttributePayload),
 * AWS::IoT::Certificate (Status) and AWS::IoT::Policy (PolicyName,
 * PolicyDocument), and the intrinsic functions Ref, Fn::Join, Fn::Select,
 * Fn::Split and Fn::Sub (${Name} only). A policy given by document only is
 * named by the SHA-256 of the document, as a name AWS would generate.
 * Errors: TC_ERR_BROKER_TEMPLATE naming the JSON path at fault,
 * TC_ERR_BROKER_TEMPLATE_PARAM naming the parameter without a value,
 * TC_ERR_TOO_BIG, TC_ERR_NOMEM. out is filled only on success.
 */
int tc_jitp_evaluate(const char *body, size_t len,
                     const struct tc_jitp_params *p, struct tc_jitp_plan *out,
                     struct tc_detail *d);

/* Free a plan's members and zero it (NULL or zeroed accepted). */
void tc_jitp_plan_clear(struct tc_jitp_plan *plan);

#endif
