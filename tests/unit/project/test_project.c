// SPDX-License-Identifier: Apache-2.0
/* Firmware project folders: sdkconfig parsing and the endpoint rewrite. */
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "thingcore/project.h"
#include "thingcore/util.h"

struct get_row {
    const char *text;
    const char *name;
    int err;
    const char *value;
};

static const struct get_row get_rows[] = {
    {"CONFIG_A=\"x.y\"\n", "CONFIG_A", TC_OK, "x.y"},
    {"CONFIG_A=\n", "CONFIG_A", TC_OK, ""},
    {"CONFIG_AB=1\nCONFIG_A=2\n", "CONFIG_A", TC_OK, "2"},
    {"# CONFIG_A=1\n", "CONFIG_A", TC_ERR_NOT_FOUND, NULL},
    {"CONFIG_A=\"a\\\"b\"\r\n", "CONFIG_A", TC_OK, "a\"b"},
    {"CONFIG_A=\"open\n", "CONFIG_A", TC_ERR_PARSE, NULL},
    {"CONFIG_A=\"x\" trailing\n", "CONFIG_A", TC_ERR_PARSE, NULL},
    {"CONFIG_A=ab\"c\n", "CONFIG_A", TC_ERR_PARSE, NULL},
    {"CONFIG_A=8883", "CONFIG_A", TC_OK, "8883"},
};

TC_TEST(sdkconfig_get_table)
{
    size_t i;

    for (i = 0; i < sizeof(get_rows) / sizeof(get_rows[0]); i++) {
        const struct get_row *r = &get_rows[i];
        struct tc_detail d;
        char out[64];
        int rc = tc_sdkconfig_get(r->text, strlen(r->text), r->name, out,
                                  sizeof(out), &d);

        CHECK_EQ_INT(rc, r->err);
        if (r->value != NULL) {
            CHECK_EQ_STR(out, r->value);
        }
        if (rc == TC_ERR_PARSE) {
            CHECK(strstr(d.text, "line 1") != NULL);
        }
    }
}

static void
write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    tc_file_write_atomic(path, text, strlen(text), 0644, NULL);
}

TC_TEST(project_set_endpoint_replaces_old_values_and_stale_build)
{
    const char *dir = tc_test_tmpdir();
    struct tc_project p;
    struct tc_project_changes ch;
    struct tc_detail d;
    struct tc_buf b;
    char path[512];
    struct stat st;

    CHECK_EQ_INT(tc_project_read(dir, &p, &d), TC_ERR_NOT_FOUND);
    CHECK(strstr(d.text, "not a firmware project") != NULL);
    write_file(dir, "sdkconfig.defaults",
               "# keep me\nCONFIG_AWS_IOT_MQTT_HOST=\"old.example\"\n"
               "CONFIG_OTHER=y");
    write_file(dir, "sdkconfig", "CONFIG_AWS_IOT_MQTT_HOST=\"old.example\"\n");
    snprintf(path, sizeof(path), "%s/.pio", dir);
    CHECK(mkdir(path, 0755) == 0);
    CHECK_EQ_INT(tc_project_read(dir, &p, NULL), TC_OK);
    CHECK_EQ_STR(p.host, "old.example");
    CHECK_EQ_INT(p.port, 8883);

    CHECK_EQ_INT(tc_project_set_endpoint(dir, "localhost", 18883, "CA\n", &ch,
                                         &d),
                 TC_OK);
    CHECK(ch.host_changed && ch.port_changed && ch.ca_changed);
    CHECK_EQ_STR(ch.old_host, "old.example");
    CHECK(ch.removed_sdkconfig && ch.removed_build);
    CHECK(stat(path, &st) != 0);
    CHECK_EQ_INT(tc_project_read(dir, &p, NULL), TC_OK);
    CHECK_EQ_STR(p.host, "localhost");
    CHECK_EQ_INT(p.port, 18883);

    /* other lines survive in order; the CA is in place */
    tc_buf_init(&b, 4096);
    snprintf(path, sizeof(path), "%s/sdkconfig.defaults", dir);
    CHECK_EQ_INT(tc_file_read(path, &b, NULL), TC_OK);
    CHECK_EQ_STR((char *)b.data,
                 "# keep me\nCONFIG_AWS_IOT_MQTT_HOST=\"localhost\"\n"
                 "CONFIG_OTHER=y\nCONFIG_AWS_IOT_MQTT_PORT=18883\n");
    tc_buf_clear(&b, 0);
    tc_buf_init(&b, 4096);
    CHECK_EQ_INT(tc_file_read(p.root_ca, &b, NULL), TC_OK);
    CHECK_EQ_STR((char *)b.data, "CA\n");
    tc_buf_clear(&b, 0);

    /* a second run changes nothing */
    CHECK_EQ_INT(tc_project_set_endpoint(dir, "localhost", 18883, "CA\n", &ch,
                                         NULL),
                 TC_OK);
    CHECK(!ch.host_changed && !ch.port_changed && !ch.ca_changed);
    CHECK(!ch.removed_sdkconfig && !ch.removed_build);

    /* refusals: a host that would break the file, a bad port */
    CHECK_EQ_INT(tc_project_set_endpoint(dir, "a\"b", 1, "CA", &ch, &d),
                 TC_ERR_ARG);
    CHECK_EQ_INT(tc_project_set_endpoint(dir, "h", 70000, "CA", &ch, &d),
                 TC_ERR_ARG);
    write_file(dir, "sdkconfig.defaults", "CONFIG_AWS_IOT_MQTT_PORT=eighty\n");
    CHECK_EQ_INT(tc_project_read(dir, &p, &d), TC_ERR_PARSE);
    CHECK(strstr(d.text, "not a port") != NULL);
}
