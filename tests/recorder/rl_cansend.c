/* rl_cansend: CAN test traffic for the can:/pcap: source test on a vcan
 * interface the test created in its own network namespace. Sends N frames
 * through a CAN_RAW socket, alternating classic frames (id 0x100 + i % 16,
 * 8 bytes) and CAN FD frames (extended id 0x18DA00F1, 64 bytes, BRS), the
 * sequence number in the first 4 data bytes (little-endian).
 *
 *   rl_cansend IFACE N
 * Exit 0 when all were sent. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rl_cansend IFACE N\n");
        return 1;
    }
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    int fd = socket(PF_CAN, SOCK_RAW, CAN_RAW);
    int one = 1;
    struct sockaddr_can addr = {0};
    addr.can_family = AF_CAN;
    addr.can_ifindex = (int)if_nametoindex(argv[1]);
    if (fd < 0 || addr.can_ifindex == 0 ||
        setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        perror("rl_cansend");
        return 2;
    }
    for (unsigned i = 0; i < n; i++) {
        struct canfd_frame f;
        memset(&f, 0, sizeof(f));
        size_t len;
        if (i % 2 == 0) {
            f.can_id = 0x100 + i % 16;
            f.len = 8;
            len = CAN_MTU;
        } else {
            f.can_id = 0x18DA00F1u | CAN_EFF_FLAG;
            f.len = 64;
            f.flags = CANFD_BRS;
            len = CANFD_MTU;
        }
        memcpy(f.data, &i, 4);
        for (;;) {
            ssize_t k = write(fd, &f, len);
            if (k == (ssize_t)len)
                break;
            if (k < 0 && errno == ENOBUFS) { /* vcan queue full: let it drain */
                struct timespec ts = {0, 100000};
                nanosleep(&ts, NULL);
                continue;
            }
            perror("rl_cansend: write");
            return 2;
        }
    }
    return 0;
}
