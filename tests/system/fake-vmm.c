/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-vmm - a process that looks like QEMU to /proc: comm "qemu-system-x86",
 * "-name guest=NAME" in its command line and N threads named "CPU n/KVM"
 * that pass a token around (real wakeups, real context switches).  It runs
 * no guest: it exists so the live tests can check VM/vCPU attribution of
 * real sched events on a host without KVM.
 *
 * usage: fake-vmm NAME NVCPUS SECONDS
 *
 * Prints its pid once every vCPU thread has its name, so a test that waits
 * for the pid (wait_file) can place the threads by name at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int nvcpu;
static int pipes[64][2];
static volatile int stop;
static unsigned pause_us;       /* FAKE_VMM_PAUSE_US: sleep per token pass (lighter load) */
static pthread_barrier_t named; /* every vCPU thread has its name (then the pid is printed) */

static void *vcpu(void *arg) {
        int i = (int) (long) arg;
        char name[16], c = 'x';

        snprintf(name, sizeof(name), "CPU %d/KVM", i);
        prctl(PR_SET_NAME, name);
        pthread_barrier_wait(&named);
        if (i == 0)
                (void) !write(pipes[1][1], &c, 1);
        while (!stop) {
                if (read(pipes[i][0], &c, 1) != 1)
                        break;
                for (volatile int k = 0; k < 200000; k++)
                        ;
                if (pause_us)
                        usleep(pause_us);
                (void) !write(pipes[(i + 1) % nvcpu][1], &c, 1);
        }
        return NULL;
}

int main(int argc, char **argv) {
        pthread_t th[64];
        double secs;

        if (argc == 4 && strcmp(argv[0], "qemu-system-x86_64") != 0) {
                /* re-exec so /proc/PID/cmdline looks like libvirt's QEMU */
                char guest[256];
                snprintf(guest, sizeof(guest), "guest=%s,debug-threads=on", argv[1]);
                char *nargv[] = { "qemu-system-x86_64", "-name", guest, "-smp", argv[2], "-t", argv[3], NULL };
                execv("/proc/self/exe", nargv);
                perror("execv");
                return 1;
        }
        if (argc != 7)
                return 2;
        nvcpu = atoi(argv[4]);
        if (getenv("FAKE_VMM_PAUSE_US"))
                pause_us = (unsigned) atoi(getenv("FAKE_VMM_PAUSE_US"));
        secs = atof(argv[6]);
        if (nvcpu < 2 || nvcpu > 64)
                return 2;
        prctl(PR_SET_NAME, "qemu-system-x86");
        for (int i = 0; i < nvcpu; i++)
                if (pipe(pipes[i]) < 0)
                        return 1;
        if (pthread_barrier_init(&named, NULL, (unsigned) nvcpu + 1) != 0)
                return 1;
        for (int i = 0; i < nvcpu; i++)
                if (pthread_create(&th[i], NULL, vcpu, (void *) (long) i) != 0)
                        return 1;
        pthread_barrier_wait(&named);
        printf("%d\n", (int) getpid());
        fflush(stdout);
        struct timespec ts = { (time_t) secs, (long) ((secs - (time_t) secs) * 1e9) };
        nanosleep(&ts, NULL);
        stop = 1;
        _exit(0);
}
