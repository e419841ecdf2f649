// Signals: handlers, masks, frames, restarts, default actions, job control, timers and
// process groups, as musl programs use them. Passes on Linux too.
#define _GNU_SOURCE
#include "tap.h"

#include <setjmp.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>

static volatile sig_atomic_t hits, last_sig, last_code, last_pid, nested_ok;
static volatile uintptr_t last_addr, last_sp;
static volatile int mask_had_self;

static void on_sig(int sig)
{
	hits++;
	last_sig = sig;
}

static void on_info(int sig, siginfo_t *si, void *ucv)
{
	sigset_t now;

	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_addr = (uintptr_t)si->si_addr;
	last_sp = (uintptr_t)&now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	mask_had_self = sigismember(&now, sig);
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	TAP_REQUIRE(sigaction(sig, &sa, NULL) == 0);
}

static void set_info_handler(int sig, int flags)
{
	struct sigaction sa = { 0 };

	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	TAP_REQUIRE(sigaction(sig, &sa, NULL) == 0);
}

static void test_handler_runs(void)
{
	set_info_handler(SIGUSR1, 0);
	TAP_CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(last_sig, SIGUSR1);
	TAP_CHECK_EQ(last_code, SI_USER);
	TAP_CHECK_EQ(last_pid, getpid());
	TAP_CHECK(mask_had_self);
	// The mask is back after the handler.
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	TAP_CHECK(!sigismember(&now, SIGUSR1));
}

static void test_block_pending_unblock(void)
{
	sigset_t set, pend;

	set_handler(SIGUSR2, on_sig, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	raise(SIGUSR2);
	TAP_CHECK_EQ(hits, 0);
	sigpending(&pend);
	TAP_CHECK(sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	TAP_CHECK_EQ(hits, 1); // standard signals do not queue
	sigpending(&pend);
	TAP_CHECK(!sigismember(&pend, SIGUSR2));
}

static void test_ignore(void)
{
	sigset_t set, pend;

	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	// Ignored while blocked stays pending; setting SIG_IGN discards it.
	signal(SIGUSR2, on_sig);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	signal(SIGUSR2, SIG_IGN);
	sigpending(&pend);
	TAP_CHECK(!sigismember(&pend, SIGUSR2));
	TAP_CHECK_EQ(hits, 0);
}

static void die_by_term(void)
{
	raise(SIGTERM);
}

static void die_by_abort(void)
{
	abort();
}

static void die_blocked_segv(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	sigprocmask(SIG_BLOCK, &set, NULL);
	// A store to address 8 in asm, so the compiler neither warns nor elides it.
	__asm__ volatile("movl $1, 8" ::: "memory");
}

static void die_reset_hand(void)
{
	set_handler(SIGUSR1, on_sig, SA_RESETHAND);
	raise(SIGUSR1);
	if (hits != 1)
		_exit(3);
	raise(SIGUSR1);
}

static void test_default_actions(void)
{
	TAP_CHECK_KILLED_BY(die_by_term, SIGTERM);
	TAP_CHECK_KILLED_BY(die_by_abort, SIGABRT);
	TAP_CHECK_KILLED_BY(die_blocked_segv, SIGSEGV);
	TAP_CHECK_KILLED_BY(die_reset_hand, SIGUSR1);
}

static sigjmp_buf jump;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	last_addr = (uintptr_t)si->si_addr;
	last_code = si->si_code;
	siglongjmp(jump, 1);
}

static void test_segv_handler(void)
{
	struct sigaction sa = { 0 };

	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(jump, 1)) {
		*(volatile int *)0x1234 = 5;
		TAP_CHECK(!"no fault");
	}
	TAP_CHECK_EQ(last_addr, 0x1234);
	TAP_CHECK_EQ(last_code, SEGV_MAPERR);
	// siglongjmp restored the mask: a second fault is caught too.
	if (!sigsetjmp(jump, 1))
		*(volatile int *)0x5678 = 5;
	TAP_CHECK_EQ(last_addr, 0x5678);
}

// SIGILL handler that skips the 2-byte ud2 by editing the saved RIP, and sets RBX.
static void on_ill(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	uc->uc_mcontext.gregs[REG_RIP] += 2;
	uc->uc_mcontext.gregs[REG_RBX] = 0x5eed;
	hits++;
}

static void test_sigreturn_context(void)
{
	struct sigaction sa = { 0 };
	long rbx = 0, r12 = 0x1111, r13 = 0x2222, r14 = 0x3333, r15 = 0x4444;
	long o12, o13, o14, o15;

	sa.sa_sigaction = on_ill;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGILL, &sa, NULL);
	__asm__ volatile("mov %5, %%r12\n\tmov %6, %%r13\n\tmov %7, %%r14\n\tmov %8, %%r15\n\t"
			 "xor %%ebx, %%ebx\n\tud2\n\tmov %%rbx, %0\n\t"
			 "mov %%r12, %1\n\tmov %%r13, %2\n\tmov %%r14, %3\n\tmov %%r15, %4"
			 : "=r"(rbx), "=m"(o12), "=m"(o13), "=m"(o14), "=m"(o15)
			 : "m"(r12), "m"(r13), "m"(r14), "m"(r15)
			 : "rbx", "r12", "r13", "r14", "r15", "memory");
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(rbx, 0x5eed);
	TAP_CHECK_EQ(o12, 0x1111);
	TAP_CHECK_EQ(o13, 0x2222);
	TAP_CHECK_EQ(o14, 0x3333);
	TAP_CHECK_EQ(o15, 0x4444);
}

static volatile double fp_sink;

static void on_alrm_fp(int sig)
{
	volatile double x = 1.0;

	for (int i = 0; i < 100; i++)
		x = x * 3.7 + 1.1;
	fp_sink = x;
	hits++;
}

// The FPU/SSE state of the interrupted code survives handlers that use it.
static void test_fpu_preserved(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	double a = 0.0;
	long n = 0;

	set_handler(SIGALRM, on_alrm_fp, SA_RESTART);
	setitimer(ITIMER_REAL, &it, NULL);
	while (hits < 20 && n < 400000000) {
		a += 0.5;
		n++;
		if (a != n * 0.5) {
			TAP_CHECK(!"fp state corrupted");
			break;
		}
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	TAP_CHECK(hits >= 20);
}

static void on_alrm(int sig)
{
	hits++;
}

static void read_with_interrupt(int flags, ssize_t *ret, int *err)
{
	int fds[2];
	char c;
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	pid_t pid;

	TAP_REQUIRE(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		usleep(300000);
		write(fds[1], "x", 1);
		_exit(0);
	}
	set_handler(SIGALRM, on_alrm, flags);
	setitimer(ITIMER_REAL, &it, NULL);
	errno = 0;
	*ret = read(fds[0], &c, 1);
	*err = errno;
	tap_wait(pid);
}

static void test_sa_restart(void)
{
	ssize_t ret;
	int err;

	read_with_interrupt(SA_RESTART, &ret, &err);
	TAP_CHECK_EQ(ret, 1);
	TAP_CHECK_EQ(hits, 1);
	hits = 0;
	read_with_interrupt(0, &ret, &err);
	TAP_CHECK_EQ(ret, -1);
	TAP_CHECK_EQ(err, EINTR);
	TAP_CHECK_EQ(hits, 1);
}

static void test_sigsuspend(void)
{
	sigset_t block, empty, now;
	pid_t parent = getpid(), pid;

	set_handler(SIGUSR1, on_sig, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	sigemptyset(&empty);
	errno = 0;
	TAP_CHECK_EQ(sigsuspend(&empty), -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK_EQ(hits, 1);
	sigprocmask(SIG_BLOCK, NULL, &now);
	TAP_CHECK(sigismember(&now, SIGUSR1));
	tap_wait(pid);
}

static void test_pause_alarm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 100000 } }, left;

	set_handler(SIGALRM, on_alrm, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	getitimer(ITIMER_REAL, &left);
	TAP_CHECK(left.it_value.tv_sec == 0 && left.it_value.tv_usec > 0);
	errno = 0;
	TAP_CHECK_EQ(pause(), -1);
	TAP_CHECK_EQ(errno, EINTR);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(alarm(5), 0);
	TAP_CHECK_EQ(alarm(0), 5);
}

static void test_itimer_periodic(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };

	set_handler(SIGALRM, on_alrm, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	while (hits < 3)
		pause();
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	TAP_CHECK(hits >= 3);
	errno = 0;
	TAP_CHECK_EQ(setitimer(ITIMER_REAL + 7, &it, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

static char altstack[65536];

static void test_sigaltstack(void)
{
	stack_t ss = { 0 }, old;

	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	TAP_REQUIRE(sigaltstack(&ss, &old) == 0);
	TAP_CHECK(old.ss_flags & SS_DISABLE);
	set_info_handler(SIGUSR1, SA_ONSTACK);
	raise(SIGUSR1);
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK(last_sp > (uintptr_t)altstack && last_sp < (uintptr_t)altstack + sizeof(altstack));
	sigaltstack(NULL, &old);
	TAP_CHECK_EQ(old.ss_flags, 0);
	ss.ss_size = 100;
	errno = 0;
	TAP_CHECK_EQ(syscall(SYS_sigaltstack, &ss, NULL), -1);
	TAP_CHECK_EQ(errno, ENOMEM);
}

static void on_usr2_nested(int sig)
{
	nested_ok = 1;
}

static void on_usr1_raise(int sig)
{
	raise(SIGUSR2);
	hits++;
}

static void test_nested(void)
{
	set_handler(SIGUSR2, on_usr2_nested, 0);
	set_handler(SIGUSR1, on_usr1_raise, 0);
	raise(SIGUSR1);
	TAP_CHECK(nested_ok);
	TAP_CHECK_EQ(hits, 1);
}

static void test_sigtimedwait(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec ts = { 0, 50000000 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	TAP_CHECK_EQ(sigtimedwait(&set, &si, &ts), SIGUSR1);
	TAP_CHECK_EQ(si.si_signo, SIGUSR1);
	TAP_CHECK_EQ(si.si_pid, getpid());
	errno = 0;
	TAP_CHECK_EQ(sigtimedwait(&set, &si, &ts), -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	// SIGCHLD's default is to ignore, but waiting for it keeps it.
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	ts.tv_sec = 5;
	TAP_CHECK_EQ(sigtimedwait(&set, &si, &ts), SIGCHLD);
	TAP_CHECK_EQ(si.si_pid, pid);
	TAP_CHECK_EQ(si.si_code, CLD_EXITED);
	TAP_CHECK_EQ(si.si_status, 3);
	tap_wait(pid);
}

static void child_spin(void)
{
	for (;;)
		;
}

static void test_stop_continue(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		child_spin();
	TAP_CHECK_EQ(kill(pid, SIGSTOP), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	TAP_CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
	TAP_CHECK_EQ(kill(pid, SIGCONT), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WCONTINUED), pid);
	TAP_CHECK(WIFCONTINUED(status));
	TAP_CHECK_EQ(kill(pid, SIGTSTP), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	TAP_CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP);
	TAP_CHECK_EQ(kill(pid, SIGKILL), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	hits++;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_addr = (uintptr_t)si->si_status;
}

static void test_sigchld_info(void)
{
	struct sigaction sa = { 0 };
	int status;
	pid_t pid;

	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	pid = fork();
	if (pid == 0)
		_exit(42);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	TAP_CHECK_EQ(hits, 1);
	TAP_CHECK_EQ(last_pid, pid);
	TAP_CHECK_EQ(last_code, CLD_EXITED);
	TAP_CHECK_EQ(last_addr, 42);
}

static void test_kill_errors(void)
{
	struct sigaction sa = { 0 };

	errno = 0;
	TAP_CHECK_EQ(kill(getpid(), 65), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	errno = 0;
	TAP_CHECK_EQ(kill(30000, 0), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	TAP_CHECK_EQ(kill(getpid(), 0), 0);
	sa.sa_handler = on_sig;
	errno = 0;
	TAP_CHECK_EQ(sigaction(SIGKILL, &sa, NULL), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	errno = 0;
	TAP_CHECK_EQ(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4), -1);
	TAP_CHECK_EQ(errno, EINVAL);
	errno = 0;
	TAP_CHECK_EQ(syscall(SYS_tgkill, getpid(), getpid() + 1000, SIGUSR1), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	errno = 0;
	TAP_CHECK_EQ(syscall(SYS_rt_sigprocmask, 7, &sa.sa_mask, NULL, 8), -1);
	TAP_CHECK_EQ(errno, EINVAL);
}

static void test_process_groups(void)
{
	int status;
	pid_t pid;

	TAP_CHECK_EQ(setpgid(0, 0), 0);
	TAP_CHECK_EQ(getpgrp(), getpid());
	errno = 0;
	TAP_CHECK_EQ(setsid(), -1); // a group leader
	TAP_CHECK_EQ(errno, EPERM);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		child_spin();
	}
	setpgid(pid, pid); // both sides, as shells do
	TAP_CHECK_EQ(getpgid(pid), pid);
	TAP_CHECK_EQ(getsid(pid), getsid(0));
	TAP_CHECK_EQ(kill(-pid, SIGTERM), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	errno = 0;
	TAP_CHECK_EQ(kill(-pid, SIGTERM), -1);
	TAP_CHECK_EQ(errno, ESRCH);
	pid = fork();
	if (pid == 0)
		_exit(setsid() == getpid() && getsid(0) == getpid() && getpgrp() == getpid() ? 0 : 1);
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	errno = 0;
	TAP_CHECK_EQ(setpgid(1, 1), -1);
	TAP_CHECK_EQ(errno, ESRCH);
}

static void exec_kill_self(void)
{
	execl("/bin/sh", "sh", "-c", "kill -TERM $$; exit 7", (char *)NULL);
	_exit(99);
}

static void test_exec_reset(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		exec_kill_self();
	}
	status = tap_wait(pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, on_sig);
		exec_kill_self();
	}
	status = tap_wait(pid);
	TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

static void write_closed_pipe(void)
{
	int fds[2];

	pipe(fds);
	close(fds[0]);
	write(fds[1], "x", 1);
}

static void test_sigpipe(void)
{
	TAP_CHECK_KILLED_BY(write_closed_pipe, SIGPIPE);
}

static void test_nodefer(void)
{
	set_info_handler(SIGUSR1, SA_NODEFER);
	raise(SIGUSR1);
	TAP_CHECK(!mask_had_self);
}

static const struct tap_test tests[] = {
	{ "a handler runs with siginfo and its signal blocked", test_handler_runs },
	{ "a blocked signal stays pending until unblocked", test_block_pending_unblock },
	{ "SIG_IGN discards signals, also pending ones", test_ignore },
	{ "default actions terminate; blocked faults and SA_RESETHAND", test_default_actions },
	{ "a SIGSEGV handler gets si_addr and can siglongjmp", test_segv_handler },
	{ "rt_sigreturn restores the (edited) ucontext registers", test_sigreturn_context },
	{ "FPU state survives handlers that use it", test_fpu_preserved },
	{ "SA_RESTART restarts read, without it EINTR", test_sa_restart },
	{ "sigsuspend waits with a temporary mask", test_sigsuspend },
	{ "pause, setitimer, getitimer and alarm", test_pause_alarm },
	{ "periodic ITIMER_REAL", test_itimer_periodic },
	{ "sigaltstack and SA_ONSTACK", test_sigaltstack },
	{ "a handler can raise another signal", test_nested },
	{ "sigtimedwait", test_sigtimedwait },
	{ "SIGSTOP, SIGCONT, SIGTSTP and wait reports", test_stop_continue },
	{ "SIGCHLD siginfo", test_sigchld_info },
	{ "kill and rt_sigaction errors", test_kill_errors },
	{ "process groups and sessions", test_process_groups },
	{ "execve resets caught signals, keeps ignored ones", test_exec_reset },
	{ "SIGPIPE", test_sigpipe },
	{ "SA_NODEFER", test_nodefer },
};

int main(int argc, char **argv)
{
	if (argc > 1) {
		int i = atoi(argv[1]) - 1;
		return tap_run(&tests[i], 1);
	}
	return tap_run(tests, TAP_COUNT(tests));
}
