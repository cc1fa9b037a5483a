// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for what the registry accepts from API requests: the first
 * byte picks the parser, the rest is its input. 0: an attributePayload
 * "attributes" object; 1: names (thing, policy, template, attribute);
 * 2: a policy document; 3: a pagination token given to ListThings;
 * 4: a certificate PEM. Each must return a code, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thingcore/json.h"
#include "thingcore/registry.h"

static struct tc_registry *mem;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_detail d;
    char *text;
    int err = 0;

    if (size < 1 || size > 70000) {
        return 0;
    }
    text = malloc(size);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    switch (data[0] % 5) {
    case 0: {
        struct tc_reg_attrs a = {0};
        json_t *j = tc_json_parse(text, size - 1, 65536, 16, &err, &d);

        if (j != NULL) {
            (void)tc_registry_attrs_from_json(j, &a, &d);
            tc_reg_attrs_clear(&a);
            json_decref(j);
        }
        break;
    }
    case 1:
        (void)tc_registry_check_thing_name(text, NULL, &d);
        (void)tc_registry_check_policy_name(text, &d);
        (void)tc_registry_check_template_name(text, &d);
        (void)tc_registry_check_attr_name(text, &d);
        (void)tc_registry_check_attr_value(text, &d);
        break;
    case 2:
        (void)tc_registry_check_policy_document(text, size - 1, &d);
        break;
    case 3: {
        struct tc_reg_page page = {5, text, 0};
        struct tc_reg_thing_list l = {0};

        if (mem == NULL && tc_registry_open(":memory:", &mem, NULL) != TC_OK) {
            break;
        }
        (void)tc_registry_thing_list(mem, NULL, &page, &l, &d);
        tc_reg_thing_list_clear(&l);
        break;
    }
    default: {
        char id[TC_REG_CERT_ID_LEN];

        (void)tc_registry_cert_id_of_pem(text, size - 1, id, &d);
        break;
    }
    }
    free(text);
    return 0;
}
