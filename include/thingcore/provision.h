/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registering a Trust&GO device with an AWS IoT-compatible control plane
 * (this core's, or any that speaks the same API), the way the lesson's
 * register_thing step meant to, with none of its failure modes: every step
 * is idempotent ("already registered" is success), a step that fails names
 * the object and the fix, and a re-run completes what a failed run left.
 *
 * Modes:
 *   MAR   multi-account registration: the device certificate and its chain
 *         registered without a CA, policy attached, ACTIVE, thing created
 *         and attached.
 *   JITR  the signer CA (and its root, for the broker's trust store)
 *         registered with auto-registration: the device's first connection
 *         registers its certificate PENDING_ACTIVATION for an operator.
 *   JITP  as JITR, with a provisioning template on the signer CA that
 *         creates the thing, activates the certificate and attaches the
 *         policy on first connection.
 *
 * Limitations: the thing type is fixed (microchip-tng); a certificate
 * REVOKED earlier can never be registered again (AWS's rule).
 */
#ifndef THINGCORE_PROVISION_H
#define THINGCORE_PROVISION_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/apiclient.h"
#include "thingcore/err.h"

enum tc_provision_mode {
    TC_PROVISION_MAR = 0,
    TC_PROVISION_JITR,
    TC_PROVISION_JITP,
};

#define TC_PROVISION_THING_TYPE "microchip-tng"
#define TC_PROVISION_POLICY "Kit_Policy"

/* What one step did. */
enum tc_provision_outcome {
    TC_PROVISION_DONE = 0,    /* created or changed now */
    TC_PROVISION_ALREADY,     /* found as wanted: nothing changed */
    TC_PROVISION_FAILED,
    TC_PROVISION_CHECKED,     /* a read-only step that found all well */
};

/* Called after every step: its name, the object, what happened. */
typedef void (*tc_provision_report_fn)(void *ctx, const char *step,
                                       const char *object,
                                       enum tc_provision_outcome outcome,
                                       const char *note);

struct tc_provision_device {
    const char *thing_name;   /* 18 upper-case hex serial */
    const char *device_pem;   /* device certificate */
    const char *signer_pem;   /* signer CA certificate */
    const char *root_pem;     /* the root the chain was verified to */
};

struct tc_provision_opts {
    enum tc_provision_mode mode;
    const char *policy_name;  /* NULL: Kit_Policy */
    int update_policy;        /* replace a different default version */
    tc_provision_report_fn report;
    void *report_ctx;
};

/* What the control plane said, for the firmware configuration. */
struct tc_provision_result {
    char endpoint[256];
    char certificate_id[65];
    char certificate_arn[256];
    char thing_arn[256];
    char ca_certificate_id[65];
    char region[33];
    char account[13];
};

/*
 * Run every step of the mode against api, then read the objects back and
 * compare. TC_OK when everything stands as it should; otherwise the code
 * of the first failing step, d naming step, object and fix.
 */
int tc_provision_register(struct tc_apiclient *api,
                          const struct tc_provision_device *dev,
                          const struct tc_provision_opts *o,
                          struct tc_provision_result *res,
                          struct tc_detail *d);

/*
 * Only the steps every device shares, once before many devices (bulk
 * import): the endpoint (res receives it with the region and account),
 * the thing type and the policy (o's policy_name and update_policy), each
 * reported through o's callback as tc_provision_register does.
 */
int tc_provision_prepare(struct tc_apiclient *api,
                         const struct tc_provision_opts *o,
                         struct tc_provision_result *res,
                         struct tc_detail *d);

/* The JITP template body for Trust&GO devices (thing name from the CN). */
const char *tc_provision_jitp_template(void);

/* The code GetRegistrationCode answers (CN of a manifest signer). */
int tc_provision_registration_code(struct tc_apiclient *api, char *out,
                                   size_t cap, struct tc_detail *d);

#endif
