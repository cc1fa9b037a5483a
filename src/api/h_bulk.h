/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thingcore's own operations beside the AWS ones, under /thingcore/, a
 * path AWS IoT does not use: no AWS client sends them, and an AWS
 * endpoint answers them with an error.
 */
#ifndef THINGCORE_H_BULK_H
#define THINGCORE_H_BULK_H

#include "api_int.h"

/* POST /thingcore/bulk-register (docs/import.md). */
int h_bulk_register(struct api_call *c);

#endif
