/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tb-vmm - a tiny KVM VMM for the nested testbed (tools/testbed).  It runs
 * guest code that does IPI-synchronised work through the in-kernel xAPIC, so
 * the host's kvm:kvm_apic_ipi / kvm:kvm_eoi tracepoints really fire, and it
 * looks like libvirt's QEMU in /proc: comm "qemu-system-x86", argv
 * "qemu-system-x86_64 -name guest=NAME,debug-threads=on ...", one thread per
 * vCPU named "CPU n/KVM".
 *
 * usage: tb-vmm -name NAME [-smp N] [-apic-ids A,B,..] [-workload W]
 *               [-warmup SEC] [-duration SEC] [-topology FILE] [-vcpu-gate DIR]
 *               [-yield N | -kick N] [-yield-to receiver|none]
 *               [-dy ipi|hint|ipi,hint [-dy-window US]] [-hints MS]
 *   W = pingpong  vCPU i sends a fixed IPI (vector 0x40) to vCPU i+1 (mod N)
 *                 when the turn is its own, spins with PAUSE until the
 *                 receiver's handler has acknowledged, then passes the turn:
 *                 exactly one IPI in flight per VM, strict alternation.
 *       pinghalt  ping-pong, but a vCPU halts (HLT, interrupts on) while
 *                 it is not its turn: the turn is passed before the IPI, and
 *                 the IPI wakes the halted receiver (KVM kicks its thread).
 *       holder    vCPU0 is always busy (a lock holder / server); every other
 *                 vCPU sends it an IPI and spins with PAUSE until vCPU0's
 *                 handler acknowledged, then repeats.
 *       hpingpong a halting guest: vCPU i works (-work N loop iterations),
 *                 sends a fixed IPI to vCPU i+1 (mod N), then halts (sti;
 *                 hlt) until an IPI of its own comes: no vCPU ever spins (in
 *                 pinghalt the sender spins until the ack), as Linux guests
 *                 wait (idle, PV spinlocks), leaving CPU time to others.
 *       idle      every vCPU halts (HLT with interrupts off) until killed.
 *   -apic-ids     APIC ID of each vCPU (= the KVM vcpu_id); default 0..N-1.
 *                 Sparse IDs (e.g. 0,2) are allowed.
 *   -duration 0   run until SIGINT/SIGTERM.
 *   -yield N      while spin-waiting for an acknowledgement, after every N
 *                 PAUSEs make the PV sched-yield hypercall (KVM_HC_SCHED_YIELD
 *                 = 11, a0 = the receiver's APIC ID), as Linux guests do for a
 *                 preempted IPI target; 0 (default) never yields.
 *   -work N       hpingpong: loop iterations of work per turn (default 5000).
 *   -vcpu-gate DIR  create vCPU thread k only once DIR/go-k exists, then
 *                 create DIR/made-k: a scenario alternating between two VMs
 *                 gives them interleaved vCPU TIDs, as two QEMUs started
 *                 together get (tools/testbed-guest/scenarios/interleave.sh).
 *   -kick N       the same with the PV kick hypercall (KVM_HC_KICK_CPU = 5,
 *                 a0 = 0, a1 = the receiver's APIC ID), after which KVM
 *                 yields to the kicked vCPU.
 *   -yield-to none  name an APIC ID no vCPU has (254) instead of the
 *                 receiver: the guest's target fails, so a patched KVM falls
 *                 back to its own candidates (sched_yield only).
 *   -dy F         enable KVM_CAP_DIRECTED_YIELD (kernel/patches) with the
 *                 features F (ipi, hint, or both, comma-separated); with
 *                 hint, also create the hint file (KVM_GET_DIRECTED_YIELD_FD)
 *                 and keep it open, where vschedd finds it
 *                 (/proc/PID/fd -> anon_inode:kvm-directed-yield).
 *                 -dy-window: the IPI window in microseconds (0: KVM's).
 *   -hints MS     every MS ms write a hint per vCPU through that file: its
 *                 ping-pong receiver (or vCPU0 for holder), TTL 2*MS ms.
 *   -warmup -1    start the measurement window at SIGUSR1 (tools/testbed
 *                 bench starts every VM's window at once, after the setting
 *                 under test is in place); SIGINT/SIGTERM before it: no output.
 *
 * Acknowledgement protocol: the IPI handler of a vCPU increments its own
 * "ack" counter, then writes EOI.  A sender snapshots the receiver's ack
 * counter BEFORE writing the ICR and waits until it differs.  The handler can
 * only run after the ICR write set the IRR bit, so each sender is released by
 * a handler run that started after its send; two IPIs that coalesce in the
 * IRR (several holder senders) release every sender waiting on them, so no
 * sender can hang on a lost IPI.
 *
 * Output (stdout, one line at the end):
 *   tb-vmm: vm=NAME workload=W vcpus=N seconds=S round_trips=R ops_per_s=X rt_us=Y per_vcpu=a,b,.. busy=B yields=Y
 * round_trips = IPIs sent and acknowledged in the measurement window (after
 * -warmup), rt_us = mean time per round trip of one sender, yields = PV
 * sched-yield hypercalls made since the start (-yield).
 * With -topology FILE, a JSON object describing the VM is written once all
 * vCPU threads exist: {"vm":..,"tgid":..,"vcpus":[{"index":..,"tid":..,"apic_id":..}]}.
 *
 * Exit status: 0 ok, 1 KVM error or guest fault, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_VCPU        16
#define MEM_SIZE        0x200000UL
#define GDT_ADDR        0x0500
#define IDT_ADDR        0x1000
#define SHARED_ADDR     0x3000          /* stop flag, turn, ready count, vCPU count, yield spins, work,
                                           hypercall number, yield-to-none flag */
#define BLOCK_ADDR      0x3100          /* per-vCPU block: ack, ops, busy, yields */
#define BLOCK_SIZE      64
#define CODE_ADDR       0x10000
#define STACK_TOP       0x80000
#define IPI_VECTOR      0x40
#define FAULT_PORT      0x99

/* kernel/patches (not in the distribution's <linux/kvm.h>) */
#ifndef KVM_CAP_DIRECTED_YIELD
#define KVM_CAP_DIRECTED_YIELD 1024
#define KVM_DIRECTED_YIELD_IPI (1ULL << 0)
#define KVM_DIRECTED_YIELD_HINT (1ULL << 1)
#define KVM_GET_DIRECTED_YIELD_FD _IO(KVMIO, 0xd6)
struct kvm_directed_yield_hint {
        uint32_t vcpu_id, target_id, ttl_us, flags;
};
#endif

/* Guest code, 32-bit flat protected mode, no paging.  Register conventions
 * set by the VMM: EDI = own block, ESI = target's block (its ack counter at
 * offset 0), EDX = target APIC ID << 24, EBX = own index, ECX = next index. */
extern const uint8_t guest_start[], guest_end[], guest_pingpong[], guest_holder[],
        guest_sender[], guest_pinghalt[], guest_hpingpong[], guest_idle[], guest_ipi_handler[], guest_spurious[], guest_fault[];
__asm__(
        ".pushsection .rodata\n"
        ".code32\n"
        ".globl guest_start\n"
        "guest_start:\n"
        /* Start barrier: software-enable the APIC (SVR = 0x1ff), sti, then wait
         * until every vCPU did.  A fixed IPI to a vCPU whose APIC is still
         * software-disabled is dropped by KVM: without the barrier a sender
         * that starts first loses its first IPI and waits forever. */
        "guest_prologue:\n"
        "  movl $0x1ff, 0xfee000f0\n"
        "  sti\n"
        "  lock incl 0x3008\n"
        "1:\n"
        "  pause\n"
        "  movl 0x3008, %eax\n"
        "  cmpl 0x300c, %eax\n"
        "  jb 1b\n"
        "  ret\n"
        ".globl guest_pingpong\n"
        "guest_pingpong:\n"
        "  call guest_prologue\n"
        "1:\n"                                  /* wait for our turn */
        "  cmpl $0, 0x3000\n"
        "  jne 9f\n"
        "  cmpl %ebx, 0x3004\n"
        "  je 2f\n"
        "  pause\n"
        "  jmp 1b\n"
        "2:\n"
        "  movl (%esi), %eax\n"                 /* snapshot target's ack */
        "  movl %edx, 0xfee00310\n"             /* ICR high: destination */
        "  movl $0x4040, 0xfee00300\n"          /* ICR low: fixed, physical, assert, vector 0x40 */
        "  call guest_wait_ack\n"
        "  incl 4(%edi)\n"                      /* ops++ */
        "  movl %ecx, 0x3004\n"                 /* pass the turn */
        "  jmp 1b\n"
        "9:\n"
        "  cli\n"
        "  hlt\n"
        "  jmp 9b\n"

        ".globl guest_holder\n"
        "guest_holder:\n"                       /* busy: count loops, never spin-wait */
        "  call guest_prologue\n"
        "1:\n"
        "  incl 8(%edi)\n"
        "  cmpl $0, 0x3000\n"
        "  je 1b\n"
        "  jmp 9b\n"

        ".globl guest_sender\n"
        "guest_sender:\n"
        "  call guest_prologue\n"
        "1:\n"
        "  cmpl $0, 0x3000\n"
        "  jne 9b\n"
        "  movl (%esi), %eax\n"
        "  movl %edx, 0xfee00310\n"
        "  movl $0x4040, 0xfee00300\n"
        "  call guest_wait_ack\n"
        "  incl 4(%edi)\n"
        "  jmp 1b\n"

        /* hpingpong: vCPU 0 starts; each turn: work, IPI the next vCPU, then
         * halt until our own handler ran (our ack moved).  cli before the
         * check and sti right before hlt (the sti shadow) so that an IPI
         * arriving in between wakes the hlt instead of being missed. */
        ".globl guest_hpingpong\n"
        "guest_hpingpong:\n"
        "  call guest_prologue\n"
        "  xorl %ebp, %ebp\n"                  /* own ack as at boot: an IPI that came during
                                                 * the prologue already counts */
        "  testl %ebx, %ebx\n"
        "  jnz 3f\n"
        "1:\n"
        "  cmpl $0, 0x3000\n"
        "  jne 9b\n"
        "  movl 0x3014, %eax\n"                /* work */
        "5:\n"
        "  decl %eax\n"
        "  jnz 5b\n"
        "  movl %edx, 0xfee00310\n"
        "  movl $0x4040, 0xfee00300\n"
        "  incl 4(%edi)\n"                     /* ops++ */
        "3:\n"
        "  cli\n"
        "  cmpl $0, 0x3000\n"
        "  jne 9b\n"
        "  cmpl (%edi), %ebp\n"
        "  jne 4f\n"
        "  sti\n"
        "  hlt\n"
        "  jmp 3b\n"
        "4:\n"
        "  movl (%edi), %ebp\n"
        "  sti\n"
        "  jmp 1b\n"

        /* ping-pong whose vCPUs halt while it is not their turn, as real
         * guests idle: the turn is passed before the IPI, whose delivery
         * wakes the halted receiver (kvm_vcpu_kick from the sender's
         * thread).  cli; check; sti; hlt: an IPI after the check still
         * ends the hlt (sti's one-instruction shadow). */
        ".globl guest_pinghalt\n"
        "guest_pinghalt:\n"
        "  call guest_prologue\n"
        "1:\n"
        "  cmpl $0, 0x3000\n"
        "  jne 9b\n"
        "  cli\n"
        "  cmpl %ebx, 0x3004\n"
        "  je 2f\n"
        "  sti\n"
        "  hlt\n"
        "  jmp 1b\n"
        "2:\n"
        "  sti\n"
        "  movl (%esi), %eax\n"                 /* snapshot target's ack */
        "  movl %ecx, 0x3004\n"                 /* pass the turn, then wake the target */
        "  movl %edx, 0xfee00310\n"
        "  movl $0x4040, 0xfee00300\n"
        "  call guest_wait_ack\n"
        "  incl 4(%edi)\n"
        "  jmp 1b\n"

        /* Spin with PAUSE until the target's ack counter differs from EAX;
         * every 0x3010 spins (0: never) make hypercall 0x3018 naming the
         * target's APIC ID (EDX >> 24), or 254 if 0x301c is set: vmmcall,
         * EAX = 11 (sched_yield, EBX = a0 = the ID) or 5 (kick, EBX = a0 = 0,
         * ECX = a1 = the ID); KVM returns in EAX. */
        "guest_wait_ack:\n"
        "  movl 0x3010, %ebp\n"
        "1:\n"
        "  pause\n"
        "  cmpl (%esi), %eax\n"
        "  jne 2f\n"
        "  testl %ebp, %ebp\n"
        "  jz 1b\n"
        "  decl %ebp\n"
        "  jnz 1b\n"
        "  pushl %eax\n"
        "  pushl %ebx\n"
        "  pushl %ecx\n"
        "  movl %edx, %ebx\n"
        "  shrl $24, %ebx\n"
        "  cmpl $0, 0x301c\n"
        "  je 3f\n"
        "  movl $254, %ebx\n"
        "3:\n"
        "  movl 0x3018, %eax\n"
        "  cmpl $5, %eax\n"
        "  jne 4f\n"
        "  movl %ebx, %ecx\n"
        "  xorl %ebx, %ebx\n"
        "4:\n"
        "  vmmcall\n"
        "  incl 12(%edi)\n"                     /* yields++ */
        "  popl %ecx\n"
        "  popl %ebx\n"
        "  popl %eax\n"
        "  jmp guest_wait_ack\n"
        "2:\n"
        "  ret\n"

        ".globl guest_idle\n"
        "guest_idle:\n"
        "  cli\n"
        "  hlt\n"
        "  jmp guest_idle\n"

        ".globl guest_ipi_handler\n"
        "guest_ipi_handler:\n"                  /* flags are restored by iret */
        "  lock incl (%edi)\n"                  /* ack++ */
        "  movl $0, 0xfee000b0\n"               /* EOI */
        "  iret\n"

        ".globl guest_spurious\n"
        "guest_spurious:\n"                     /* spurious vector: no EOI */
        "  iret\n"

        ".globl guest_fault\n"
        "guest_fault:\n"                        /* any exception: report and stop */
        "  movw $0x99, %dx\n"
        "  outb %al, %dx\n"
        "  cli\n"
        "  hlt\n"
        "  jmp guest_fault\n"
        ".globl guest_end\n"
        "guest_end:\n"
        ".code64\n"
        ".popsection\n");

#define GADDR(sym) (CODE_ADDR + (uint32_t) ((sym) - guest_start))

struct vcpu {
        int index, apic_id, fd;
        pid_t tid;
        struct kvm_run *run;
        pthread_t thread;
};

static int kvm_fd, vm_fd, nvcpu = 2, run_size;
static uint8_t *mem;
static struct vcpu vcpus[MAX_VCPU];
static volatile sig_atomic_t stop_requested, start_requested;
static volatile int failed, threads_ready;
static const char *name = "tbvm", *workload = "pingpong", *topo_path;
static double warmup = 0.5, duration = 3.0;
static int yield_spins, work = 5000, yield_hc = 11, yield_to_none, dy_fd = -1, hint_ms;
static const char *vcpu_gate;
static unsigned long long dy_flags, dy_window_us;


static void die(const char *what) {
        fprintf(stderr, "tb-vmm[%s]: %s: %s\n", name, what, strerror(errno));
        exit(1);
}

/* -vcpu-gate: wait for DIR/go-K (30 s at most), or after: create DIR/made-K */
static void gate(int k, bool after) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s-%d", vcpu_gate, after ? "made" : "go", k);
        if (after) {
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        die(path);
                close(fd);
                return;
        }
        for (int i = 0; access(path, F_OK) != 0; i++) {
                struct timespec ts = { 0, 5 * 1000 * 1000 };
                if (i > 6000) {
                        errno = ETIMEDOUT;
                        die(path);
                }
                nanosleep(&ts, NULL);
        }
}

static volatile uint32_t *u32(uint32_t gpa) {
        return (volatile uint32_t *) (mem + gpa);
}

static void on_signal(int sig) {
        (void) sig;
        stop_requested = 1;
}

static void on_start(int sig) {
        (void) sig;
        start_requested = 1;
}

static void setup_memory(void) {
        uint64_t *gdt;
        uint32_t *idt;

        mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED)
                die("mmap");
        struct kvm_userspace_memory_region region = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t) mem,
        };
        if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                die("KVM_SET_USER_MEMORY_REGION");
        gdt = (uint64_t *) (mem + GDT_ADDR);
        gdt[0] = 0;
        gdt[1] = 0x00cf9a000000ffffULL;         /* 0x08: code, flat, 32-bit */
        gdt[2] = 0x00cf92000000ffffULL;         /* 0x10: data, flat, 32-bit */
        idt = (uint32_t *) (mem + IDT_ADDR);
        for (int v = 0; v < 256; v++) {
                uint32_t off = v < 32 ? GADDR(guest_fault) : v == IPI_VECTOR ? GADDR(guest_ipi_handler) :
                                                                              GADDR(guest_spurious);
                idt[2 * v] = (0x08u << 16) | (off & 0xffff);
                idt[2 * v + 1] = (off & 0xffff0000u) | 0x8e00; /* present, DPL 0, 32-bit interrupt gate */
        }
        memcpy(mem + CODE_ADDR, guest_start, (size_t) (guest_end - guest_start));
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type) {
        *s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
                                   .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1 };
}

static void setup_vcpu(struct vcpu *v) {
        struct kvm_sregs sregs;
        struct kvm_regs regs = { 0 };
        struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
        int target;
        const uint8_t *entry;

        v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long) v->apic_id);
        if (v->fd < 0)
                die("KVM_CREATE_VCPU");
        v->run = mmap(NULL, (size_t) run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED)
                die("mmap kvm_run");
        if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
                die("KVM_GET_SREGS");
        set_seg(&sregs.cs, 0x08, 11);
        set_seg(&sregs.ds, 0x10, 3);
        sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
        sregs.gdt.base = GDT_ADDR;
        sregs.gdt.limit = 3 * 8 - 1;
        sregs.idt.base = IDT_ADDR;
        sregs.idt.limit = 256 * 8 - 1;
        sregs.cr0 = 0x11;                       /* PE | ET */
        sregs.cr4 = 0;
        sregs.efer = 0;
        if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
                die("KVM_SET_SREGS");

        if (strcmp(workload, "idle") == 0) {
                entry = guest_idle;
                target = v->index;
        } else if (strcmp(workload, "holder") == 0) {
                entry = v->index == 0 ? guest_holder : guest_sender;
                target = 0;
        } else {
                entry = strcmp(workload, "pinghalt") == 0    ? guest_pinghalt :
                        strcmp(workload, "hpingpong") == 0 ? guest_hpingpong : guest_pingpong;
                target = (v->index + 1) % nvcpu;
        }
        regs.rflags = 0x2;
        regs.rip = GADDR(entry);
        regs.rsp = STACK_TOP - 0x1000u * (uint32_t) v->index;
        regs.rdi = BLOCK_ADDR + BLOCK_SIZE * (uint32_t) v->index;
        regs.rsi = BLOCK_ADDR + BLOCK_SIZE * (uint32_t) target;
        regs.rdx = (uint64_t) (uint32_t) vcpus[target].apic_id << 24;
        regs.rbx = (uint64_t) v->index;
        regs.rcx = (uint64_t) ((v->index + 1) % nvcpu);
        if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
                die("KVM_SET_REGS");
        /* with the in-kernel irqchip, non-BSP vCPUs wait for INIT/SIPI: start them */
        if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
                die("KVM_SET_MP_STATE");
}

static void *vcpu_thread(void *arg) {
        struct vcpu *v = arg;
        char tname[16];

        snprintf(tname, sizeof(tname), "CPU %d/KVM", v->index);
        prctl(PR_SET_NAME, tname);
        v->tid = (pid_t) syscall(SYS_gettid);
        __atomic_add_fetch(&threads_ready, 1, __ATOMIC_SEQ_CST);
        for (;;) {
                if (ioctl(v->fd, KVM_RUN, 0) < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        fprintf(stderr, "tb-vmm[%s]: vCPU %d: KVM_RUN: %s\n", name, v->index, strerror(errno));
                        failed = 1;
                        return NULL;
                }
                switch (v->run->exit_reason) {
                case KVM_EXIT_IO:
                        if (v->run->io.port == FAULT_PORT) {
                                struct kvm_regs r;
                                (void) ioctl(v->fd, KVM_GET_REGS, &r);
                                fprintf(stderr, "tb-vmm[%s]: vCPU %d: guest exception (eip %#llx)\n", name,
                                        v->index, (unsigned long long) r.rip);
                                failed = 1;
                                return NULL;
                        }
                        break;
                case KVM_EXIT_HLT:
                case KVM_EXIT_INTR:
                        break;
                case KVM_EXIT_SHUTDOWN:
                        fprintf(stderr, "tb-vmm[%s]: vCPU %d: triple fault (shutdown)\n", name, v->index);
                        failed = 1;
                        return NULL;
                case KVM_EXIT_FAIL_ENTRY:
                        fprintf(stderr, "tb-vmm[%s]: vCPU %d: entry failed, reason %#llx\n", name, v->index,
                                (unsigned long long) v->run->fail_entry.hardware_entry_failure_reason);
                        failed = 1;
                        return NULL;
                case KVM_EXIT_INTERNAL_ERROR:
                        fprintf(stderr, "tb-vmm[%s]: vCPU %d: KVM internal error %u\n", name, v->index,
                                v->run->internal.suberror);
                        failed = 1;
                        return NULL;
                default:
                        fprintf(stderr, "tb-vmm[%s]: vCPU %d: unexpected exit %u\n", name, v->index,
                                v->run->exit_reason);
                        failed = 1;
                        return NULL;
                }
        }
}

/* -dy: KVM_CAP_DIRECTED_YIELD and, with hint, the hint file (kept open) */
static void enable_dy(void) {
        struct kvm_enable_cap cap = { .cap = KVM_CAP_DIRECTED_YIELD, .args = { dy_flags, dy_window_us } };
        int have = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRECTED_YIELD);

        if (have <= 0 || ((unsigned long long) have & dy_flags) != dy_flags) {
                fprintf(stderr, "tb-vmm[%s]: -dy: KVM_CAP_DIRECTED_YIELD offers %#x, not %#llx: not the patched kvm.ko\n",
                        name, have > 0 ? have : 0, dy_flags);
                exit(1);
        }
        if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0)
                die("KVM_ENABLE_CAP(KVM_CAP_DIRECTED_YIELD)");
        if (dy_flags & KVM_DIRECTED_YIELD_HINT) {
                dy_fd = ioctl(vm_fd, KVM_GET_DIRECTED_YIELD_FD, 0);
                if (dy_fd < 0)
                        die("KVM_GET_DIRECTED_YIELD_FD");
        }
}

/* -hints: name each vCPU's receiver as its directed-yield target */
static void *hint_thread(void *arg) {
        struct kvm_directed_yield_hint h[MAX_VCPU];
        (void) arg;

        for (int i = 0; i < nvcpu; i++) {
                int t = strcmp(workload, "holder") == 0 ? 0 : (i + 1) % nvcpu;
                h[i] = (struct kvm_directed_yield_hint){ .vcpu_id = (uint32_t) vcpus[i].apic_id,
                                                         .target_id = (uint32_t) vcpus[t].apic_id,
                                                         .ttl_us = (uint32_t) hint_ms * 2000u };
                if (t == i)     /* holder's vCPU0: clear */
                        h[i].target_id = 0xffffffffu;
        }
        while (!stop_requested && !failed) {
                struct timespec ts = { hint_ms / 1000, (long) (hint_ms % 1000) * 1000000L };
                if (write(dy_fd, h, sizeof(h[0]) * (size_t) nvcpu) < 0) {
                        fprintf(stderr, "tb-vmm[%s]: hint write: %s\n", name, strerror(errno));
                        failed = 1;
                        return NULL;
                }
                nanosleep(&ts, NULL);
        }
        return NULL;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* sleep up to SEC, returning early on a signal or a vCPU failure */
static void wait_for(double sec) {
        double end = now() + sec;
        while (!stop_requested && !failed && (sec <= 0 || now() < end)) {
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

static void write_topology(void) {
        FILE *f;
        char tmp[4096];

        if (!topo_path)
                return;
        snprintf(tmp, sizeof(tmp), "%s.tmp", topo_path);
        f = fopen(tmp, "w");
        if (!f)
                die(tmp);
        fprintf(f, "{\"vm\":\"%s\",\"tgid\":%d,\"workload\":\"%s\",\"vcpus\":[", name, (int) getpid(), workload);
        for (int i = 0; i < nvcpu; i++)
                fprintf(f, "%s{\"index\":%d,\"tid\":%d,\"apic_id\":%d,\"comm\":\"CPU %d/KVM\"}", i ? "," : "",
                        i, (int) vcpus[i].tid, vcpus[i].apic_id, i);
        fprintf(f, "]}\n");
        if (fclose(f) != 0 || rename(tmp, topo_path) < 0)
                die(topo_path);
}

static int parse_apic_ids(const char *s) {
        int n = 0;
        char *end;
        while (*s && n < MAX_VCPU) {
                long v = strtol(s, &end, 0);
                if (end == s || v < 0 || v > 254)
                        return -1;
                vcpus[n++].apic_id = (int) v;
                s = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        return -1;
        }
        return n;
}

static int usage(void) {
        fprintf(stderr, "usage: tb-vmm -name NAME [-smp N] [-apic-ids A,B,..] [-workload pingpong|pinghalt|hpingpong|holder|idle]\n"
                        "              [-warmup SEC] [-duration SEC] [-topology FILE] [-vcpu-gate DIR] [-work N]\n"
                        "              [-yield N | -kick N] [-yield-to receiver|none]\n"
                        "              [-dy ipi|hint|ipi,hint [-dy-window US]] [-hints MS]\n");
        return 2;
}

int main(int argc, char **argv) {
        const char *apic_ids = NULL;
        uint64_t ops0[MAX_VCPU] = { 0 }, busy0 = 0, total = 0, senders = 0;
        double t0, t1;

        /* look like libvirt's QEMU in /proc/PID/cmdline: re-exec with argv[0]
         * "qemu-system-x86_64" and "-name guest=NAME,debug-threads=on" */
        if (strcmp(argv[0], "qemu-system-x86_64") != 0) {
                char **nargv = calloc((size_t) argc + 2, sizeof(char *));
                char guest[300];
                int j = 0;
                if (!nargv)
                        return 1;
                nargv[j++] = "qemu-system-x86_64";
                for (int i = 1; i < argc; i++) {
                        if (strcmp(argv[i], "-name") == 0 && i + 1 < argc && strncmp(argv[i + 1], "guest=", 6) != 0) {
                                snprintf(guest, sizeof(guest), "guest=%s,debug-threads=on", argv[i + 1]);
                                nargv[j++] = "-name";
                                nargv[j++] = guest;
                                i++;
                                continue;
                        }
                        nargv[j++] = argv[i];
                }
                execv("/proc/self/exe", nargv);
                perror("tb-vmm: execv /proc/self/exe");
                return 1;
        }
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
                if (!val)
                        return usage();
                if (strcmp(a, "-name") == 0) {
                        static char nbuf[256];
                        const char *g = strncmp(val, "guest=", 6) == 0 ? val + 6 : val;
                        size_t l = strcspn(g, ",");
                        if (l == 0 || l >= sizeof(nbuf))
                                return usage();
                        memcpy(nbuf, g, l);
                        nbuf[l] = 0;
                        name = nbuf;
                } else if (strcmp(a, "-smp") == 0)
                        nvcpu = atoi(val);
                else if (strcmp(a, "-apic-ids") == 0)
                        apic_ids = val;
                else if (strcmp(a, "-workload") == 0)
                        workload = val;
                else if (strcmp(a, "-warmup") == 0)
                        warmup = atof(val);
                else if (strcmp(a, "-duration") == 0)
                        duration = atof(val);
                else if (strcmp(a, "-topology") == 0)
                        topo_path = val;
                else if (strcmp(a, "-yield") == 0 || strcmp(a, "-kick") == 0) {
                        yield_spins = atoi(val);
                        yield_hc = a[1] == 'k' ? 5 : 11;
                } else if (strcmp(a, "-yield-to") == 0) {
                        if (strcmp(val, "none") && strcmp(val, "receiver"))
                                return usage();
                        yield_to_none = strcmp(val, "none") == 0;
                } else if (strcmp(a, "-dy") == 0) {
                        char buf[32], *tok, *save = NULL;
                        snprintf(buf, sizeof(buf), "%s", val);
                        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                                if (strcmp(tok, "ipi") == 0)
                                        dy_flags |= KVM_DIRECTED_YIELD_IPI;
                                else if (strcmp(tok, "hint") == 0)
                                        dy_flags |= KVM_DIRECTED_YIELD_HINT;
                                else
                                        return usage();
                } else if (strcmp(a, "-dy-window") == 0)
                        dy_window_us = strtoull(val, NULL, 10);
                else if (strcmp(a, "-hints") == 0)
                        hint_ms = atoi(val);
                else if (strcmp(a, "-vcpu-gate") == 0)
                        vcpu_gate = val;
                else if (strcmp(a, "-work") == 0)
                        work = atoi(val);
                else
                        return usage();
                i++;
        }
        if (nvcpu < 1 || nvcpu > MAX_VCPU || yield_spins < 0 || work < 1 || hint_ms < 0 ||
            (hint_ms && !(dy_flags & KVM_DIRECTED_YIELD_HINT)))
                return usage();
        if (strcmp(workload, "pingpong") && strcmp(workload, "pinghalt") && strcmp(workload, "holder") &&
            strcmp(workload, "idle") && strcmp(workload, "hpingpong"))
                return usage();
        if (strcmp(workload, "idle") && nvcpu < 2)
                return usage();
        for (int i = 0; i < nvcpu; i++) {
                vcpus[i].index = i;
                vcpus[i].apic_id = i;
        }
        if (apic_ids && parse_apic_ids(apic_ids) != nvcpu) {
                fprintf(stderr, "tb-vmm: -apic-ids needs %d distinct IDs 0..254\n", nvcpu);
                return 2;
        }
        prctl(PR_SET_NAME, "qemu-system-x86");
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGUSR1, on_start);

        kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm_fd < 0)
                die("/dev/kvm");
        vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
        if (vm_fd < 0)
                die("KVM_CREATE_VM");
        if (ioctl(vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
                die("KVM_SET_TSS_ADDR");
        if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
                die("KVM_CREATE_IRQCHIP");
        run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (run_size <= 0)
                die("KVM_GET_VCPU_MMAP_SIZE");
        setup_memory();
        *u32(SHARED_ADDR + 4) = 0;              /* turn: vCPU 0 starts */
        *u32(SHARED_ADDR + 8) = 0;              /* vCPUs past the start barrier */
        *u32(SHARED_ADDR + 12) = (uint32_t) nvcpu;
        *u32(SHARED_ADDR + 16) = (uint32_t) yield_spins;
        *u32(SHARED_ADDR + 20) = (uint32_t) work;
        *u32(SHARED_ADDR + 24) = (uint32_t) yield_hc;
        *u32(SHARED_ADDR + 28) = (uint32_t) yield_to_none;
        if (dy_flags)
                enable_dy();
        for (int i = 0; i < nvcpu; i++)
                setup_vcpu(&vcpus[i]);
        for (int i = 0; i < nvcpu; i++) {
                if (vcpu_gate)
                        gate(i, false);
                errno = pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i]);
                if (errno)
                        die("pthread_create");
                if (vcpu_gate)
                        gate(i, true);
        }
        while (__atomic_load_n(&threads_ready, __ATOMIC_SEQ_CST) < nvcpu)
                usleep(1000);
        if (hint_ms) {
                pthread_t ht;
                errno = pthread_create(&ht, NULL, hint_thread, NULL);
                if (errno)
                        die("pthread_create (hints)");
        }
        write_topology();

        if (warmup < 0) {
                while (!start_requested && !stop_requested && !failed) {
                        struct timespec ts = { 0, 5 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
                if (failed)
                        return 1;
                if (!start_requested)
                        _exit(0);
        } else
                wait_for(warmup);
        t0 = now();
        for (int i = 0; i < nvcpu; i++)
                ops0[i] = *u32(BLOCK_ADDR + BLOCK_SIZE * (uint32_t) i + 4);
        busy0 = *u32(BLOCK_ADDR + 8);
        wait_for(duration);
        t1 = now();
        *u32(SHARED_ADDR) = 1;                  /* stop: guests halt */
        if (failed)
                return 1;
        if (strcmp(workload, "idle") == 0)
                return 0;

        uint32_t yields = 0;
        for (int i = 0; i < nvcpu; i++)
                yields += *u32(BLOCK_ADDR + BLOCK_SIZE * (uint32_t) i + 12);

        char per[256] = "";
        size_t pl = 0;
        for (int i = 0; i < nvcpu; i++) {
                uint64_t d = (uint32_t) (*u32(BLOCK_ADDR + BLOCK_SIZE * (uint32_t) i + 4) - (uint32_t) ops0[i]);
                total += d;
                if (d)
                        senders++;
                pl += (size_t) snprintf(per + pl, sizeof(per) - pl, "%s%llu", i ? "," : "", (unsigned long long) d);
                if (pl >= sizeof(per))
                        pl = sizeof(per) - 1;
        }
        double secs = t1 - t0, rate = secs > 0 ? (double) total / secs : 0;
        /* time per round trip as one sender sees it: pingpong has one IPI in
         * flight, holder one per sender */
        double rt_us = total ? secs * 1e6 / ((double) total / (double) (senders ? senders : 1)) : 0;
        if (strcmp(workload, "pingpong") == 0 || strcmp(workload, "pinghalt") == 0 || strcmp(workload, "hpingpong") == 0)
                rt_us = total ? secs * 1e6 / (double) total : 0;
        printf("tb-vmm: vm=%s workload=%s vcpus=%d seconds=%.3f round_trips=%llu ops_per_s=%.1f rt_us=%.1f "
               "per_vcpu=%s busy=%u yields=%u\n",
               name, workload, nvcpu, secs, (unsigned long long) total, rate, rt_us, per,
               (uint32_t) (*u32(BLOCK_ADDR + 8) - (uint32_t) busy0), yields);
        fflush(stdout);
        _exit(0);
}
