/* The acknowledged-publish peer of the delivery scenario: a libmosquitto
 * publisher (MQTT 3.1.1, QoS 1) that publishes --count messages of --size
 * bytes to one topic, with at most --window of them not yet acknowledged
 * (PUBACK): libmosquitto's own in-flight limit (MOSQ_OPT_SEND_MAXIMUM) and
 * the app's, so that nothing waits in libmosquitto's queue, as lifeline's
 * outbox of queue_max_messages holds at most that many. The clock runs from
 * the first publish to the last PUBACK. Publishes from the main thread;
 * libmosquitto's network thread (mosquitto_loop_start) reads the PUBACKs.
 * Prints one JSON line. */
#include <pthread.h>

#include <mosquitto.h>

#include "bench_common.h"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int connected, failed;
    long acked;
} B = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m, (void)ud;
    pthread_mutex_lock(&B.mu);
    if (rc == 0)
        B.connected = 1;
    else
        B.failed = 1;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m, (void)ud, (void)mid;
    pthread_mutex_lock(&B.mu);
    B.acked++;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m, (void)ud;
    if (rc == 0)
        return;
    pthread_mutex_lock(&B.mu);
    B.failed = 1;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

/* Wait on the condition variable for at most until_us (monotonic). */
static int wait_until(int64_t until_us)
{
    return bench_wait_until(&B.cv, &B.mu, until_us);
}

int main(int argc, char **argv)
{
    const char *host = opt_str(argc, argv, "--host", "127.0.0.1");
    int port = (int)opt_num(argc, argv, "--port", 0);
    long count = (long)opt_num(argc, argv, "--count", 20000);
    size_t size = (size_t)opt_num(argc, argv, "--size", 256);
    int window = (int)opt_num(argc, argv, "--window", 1000);
    double timeout_s = opt_num(argc, argv, "--timeout", 120);
    const char *topic = opt_str(argc, argv, "--topic", "bench/delivery");
    if (!port || window < 1 || window > 65535) {
        fprintf(stderr, "usage: mqtt_qos1_pub --port P [--host H] [--count N] [--size N]"
                        " [--window 1..65535] [--topic T] [--timeout S]\n");
        return 2;
    }
    char *payload = malloc(size ? size : 1);
    memset(payload, 'x', size);

    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(NULL, true, NULL);
    if (!m) {
        fprintf(stderr, "mqtt_qos1_pub: mosquitto_new failed\n");
        return 1;
    }
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, window);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    int rc = mosquitto_connect(m, host, port, 60);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_loop_start(m);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqtt_qos1_pub: %s\n", mosquitto_strerror(rc));
        return 1;
    }
    int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);
    pthread_mutex_lock(&B.mu);
    while (!B.connected && !B.failed && wait_until(deadline) == 0)
        ;
    int ok = B.connected && !B.failed;
    pthread_mutex_unlock(&B.mu);
    if (!ok) {
        fprintf(stderr, "mqtt_qos1_pub: not connected\n");
        return 1;
    }

    int64_t t0 = now_us();
    double cpu0 = cpu_s();
    long sent = 0;
    pthread_mutex_lock(&B.mu);
    while (!B.failed && B.acked < count) {
        if (sent < count && sent - B.acked < window) {
            pthread_mutex_unlock(&B.mu);
            rc = mosquitto_publish(m, NULL, topic, (int)size, payload, 1, false);
            pthread_mutex_lock(&B.mu);
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "mqtt_qos1_pub: publish: %s\n", mosquitto_strerror(rc));
                B.failed = 1;
                break;
            }
            sent++;
            continue;
        }
        if (wait_until(deadline) != 0)
            break;
    }
    int64_t t1 = now_us();
    double cpu1 = cpu_s();
    long acked = B.acked;
    int failed = B.failed;
    pthread_mutex_unlock(&B.mu);

    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(payload);
    if (failed || acked < count) {
        fprintf(stderr, "mqtt_qos1_pub: %ld of %ld acknowledged\n", acked, count);
        return 1;
    }
    double secs = (double)(t1 - t0) / 1e6;
    printf("{\"msgs\":%ld,\"seconds\":%.6f,\"msgs_per_s\":%.1f,\"cpu_s\":%.6f,\"window\":%d}\n",
           count, secs, (double)count / secs, cpu1 - cpu0, window);
    return 0;
}
