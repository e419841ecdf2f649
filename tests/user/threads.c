// POSIX threads on musl: clone with the thread flags, futex(2), thread exit and
// exit_group, signals to a process and to one thread, fork from a thread
// (docs/threads.md).

#include "tap.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#define NTHREADS 8
#define NINCR 10000

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *return_arg_plus_one(void *arg)
{
	return (void *)((intptr_t)arg + 1);
}

static void test_create_join(void)
{
	pthread_t th[4];

	for (intptr_t i = 0; i < 4; i++)
		TAP_CHECK_EQ(pthread_create(&th[i], NULL, return_arg_plus_one, (void *)(i * 10)), 0);
	for (intptr_t i = 0; i < 4; i++) {
		void *ret = NULL;

		TAP_CHECK_EQ(pthread_join(th[i], &ret), 0);
		TAP_CHECK_EQ((intptr_t)ret, i * 10 + 1);
	}
}

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *increment(void *arg)
{
	(void)arg;
	for (int i = 0; i < NINCR; i++) {
		pthread_mutex_lock(&counter_lock);
		long v = counter;
		// Widen the window a preemption could hit without the lock.
		for (volatile int spin = 0; spin < 3; spin++)
			;
		counter = v + 1;
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

static void test_mutex_counter(void)
{
	pthread_t th[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		TAP_REQUIRE(pthread_create(&th[i], NULL, increment, NULL) == 0);
	for (int i = 0; i < NTHREADS; i++)
		TAP_CHECK_EQ(pthread_join(th[i], NULL), 0);
	TAP_CHECK_EQ(counter, (long)NTHREADS * NINCR);
}

static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int pp_turn; // 0: ping's turn, 1: pong's
static int pp_rounds;
#define PP_ROUNDS 200

static void *pong(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pp_lock);
	for (int i = 0; i < PP_ROUNDS; i++) {
		while (pp_turn != 1)
			pthread_cond_wait(&pp_cond, &pp_lock);
		pp_turn = 0;
		pp_rounds++;
		pthread_cond_broadcast(&pp_cond);
	}
	pthread_mutex_unlock(&pp_lock);
	return NULL;
}

static void test_cond_pingpong(void)
{
	pthread_t th;

	TAP_REQUIRE(pthread_create(&th, NULL, pong, NULL) == 0);
	pthread_mutex_lock(&pp_lock);
	for (int i = 0; i < PP_ROUNDS; i++) {
		while (pp_turn != 0)
			pthread_cond_wait(&pp_cond, &pp_lock);
		pp_turn = 1;
		pthread_cond_signal(&pp_cond);
	}
	while (pp_turn != 0)
		pthread_cond_wait(&pp_cond, &pp_lock);
	pthread_mutex_unlock(&pp_lock);
	TAP_CHECK_EQ(pthread_join(th, NULL), 0);
	TAP_CHECK_EQ(pp_rounds, PP_ROUNDS);
}

static pid_t ids_pid[2], ids_tid[2];

static void *record_ids(void *arg)
{
	(void)arg;
	ids_pid[1] = getpid();
	ids_tid[1] = gettid_raw();
	return NULL;
}

static void test_ids(void)
{
	pthread_t th;

	ids_pid[0] = getpid();
	ids_tid[0] = gettid_raw();
	TAP_REQUIRE(pthread_create(&th, NULL, record_ids, NULL) == 0);
	pthread_join(th, NULL);
	TAP_CHECK_EQ(ids_pid[0], ids_tid[0]);
	TAP_CHECK_EQ(ids_pid[1], ids_pid[0]);
	TAP_CHECK(ids_tid[1] != ids_tid[0] && ids_tid[1] > 0);
}

static void *exit_process(void *arg)
{
	(void)arg;
	exit(42);
}

static void test_exit_group_from_thread(void)
{
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		pthread_create(&th, NULL, exit_process, NULL);
		for (;;)
			pause();
	}
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
}

static volatile int detached_ran;

static void *detached_fn(void *arg)
{
	(void)arg;
	__atomic_store_n(&detached_ran, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_detached(void)
{
	pthread_attr_t attr;
	pthread_t th;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 4; i++)
		TAP_CHECK_EQ(pthread_create(&th, &attr, detached_fn, NULL), 0);
	for (int i = 0; i < 1000 && !__atomic_load_n(&detached_ran, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	TAP_CHECK(detached_ran);
}

static volatile sig_atomic_t handled_sig;
static volatile pid_t handled_tid;

static void on_usr1(int sig)
{
	handled_tid = gettid_raw();
	handled_sig = sig;
}

static volatile int sleeper_started;

static void *sleeper(void *arg)
{
	(void)arg;
	sleeper_started = 1;
	while (!handled_sig)
		usleep(1000);
	return NULL;
}

static void test_kill_process(void)
{
	sigset_t set, old;
	pthread_t th;

	signal(SIGUSR1, on_usr1);
	// The main thread blocks SIGUSR1: the process-directed signal must reach the other.
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	TAP_REQUIRE(pthread_create(&th, NULL, sleeper, NULL) == 0);
	// Running, so past the all-blocked mask pthread_create starts a thread with.
	while (!sleeper_started)
		usleep(1000);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	TAP_CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	pthread_join(th, NULL);
	TAP_CHECK_EQ(handled_sig, SIGUSR1);
	TAP_CHECK(handled_tid != gettid_raw());
}

static volatile pid_t target_tid;

static void *wait_for_usr1(void *arg)
{
	(void)arg;
	target_tid = gettid_raw();
	while (!handled_sig)
		usleep(1000);
	return NULL;
}

static void test_pthread_kill(void)
{
	pthread_t th;

	signal(SIGUSR1, on_usr1);
	TAP_REQUIRE(pthread_create(&th, NULL, wait_for_usr1, NULL) == 0);
	while (!target_tid)
		usleep(1000);
	TAP_CHECK_EQ(pthread_kill(th, SIGUSR1), 0);
	pthread_join(th, NULL);
	TAP_CHECK_EQ(handled_sig, SIGUSR1);
	TAP_CHECK_EQ(handled_tid, target_tid);
}

static void test_cond_timedwait(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec start, deadline, end;
	long elapsed_ms;

	clock_gettime(CLOCK_REALTIME, &start);
	deadline = start;
	deadline.tv_nsec += 100 * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m);
	TAP_CHECK_EQ(pthread_cond_timedwait(&c, &m, &deadline), ETIMEDOUT);
	pthread_mutex_unlock(&m);
	clock_gettime(CLOCK_REALTIME, &end);
	elapsed_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
	TAP_CHECK(elapsed_ms >= 95);
	TAP_CHECK(elapsed_ms < 2000);
}

static void test_futex_raw(void)
{
	int word = 1;
	struct timespec rel = { 0, 20 * 1000000L };

	TAP_CHECK_EQ(syscall(SYS_futex, &word, 0 /* FUTEX_WAIT */ | 128, 2, NULL, NULL, 0), -1);
	TAP_CHECK_EQ(errno, EAGAIN);
	TAP_CHECK_EQ(syscall(SYS_futex, &word, 0 | 128, 1, &rel, NULL, 0), -1);
	TAP_CHECK_EQ(errno, ETIMEDOUT);
	TAP_CHECK_EQ(syscall(SYS_futex, &word, 1 /* FUTEX_WAKE */ | 128, 1, NULL, NULL, 0), 0);
}

static volatile int still_running;

static void *exits_early(void *arg)
{
	(void)arg;
	pthread_exit((void *)7);
}

static void *keeps_going(void *arg)
{
	(void)arg;
	usleep(20000);
	__atomic_store_n(&still_running, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_pthread_exit(void)
{
	pthread_t a, b;
	void *ret;

	TAP_REQUIRE(pthread_create(&b, NULL, keeps_going, NULL) == 0);
	TAP_REQUIRE(pthread_create(&a, NULL, exits_early, NULL) == 0);
	TAP_CHECK_EQ(pthread_join(a, &ret), 0);
	TAP_CHECK_EQ((intptr_t)ret, 7);
	TAP_CHECK_EQ(pthread_join(b, NULL), 0);
	TAP_CHECK(still_running);
}

// The main thread leaves with pthread_exit: the process lives on until the last thread,
// and reports that thread's exit_group status.
static void *finish_later(void *arg)
{
	(void)arg;
	usleep(20000);
	exit(5);
}

static void test_main_pthread_exit(void)
{
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		pthread_create(&th, NULL, finish_later, NULL);
		pthread_exit(NULL);
	}
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5);
}

static int shared_value;

static void *write_shared(void *arg)
{
	*(int *)arg = 5678;
	shared_value = 1234;
	return NULL;
}

static void test_shared_memory(void)
{
	pthread_t th;
	int *heap = malloc(sizeof(*heap));

	TAP_REQUIRE(heap != NULL);
	*heap = 0;
	TAP_REQUIRE(pthread_create(&th, NULL, write_shared, heap) == 0);
	pthread_join(th, NULL);
	TAP_CHECK_EQ(shared_value, 1234);
	TAP_CHECK_EQ(*heap, 5678);
	free(heap);
}

static void *fork_from_thread(void *arg)
{
	(void)arg;
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		// The child has this one thread: its only task is itself.
		_exit(getpid() == gettid_raw() ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return (void *)-1;
	return (void *)(intptr_t)status;
}

static void test_fork_in_thread(void)
{
	pthread_t th;
	void *ret;

	TAP_REQUIRE(pthread_create(&th, NULL, fork_from_thread, NULL) == 0);
	TAP_CHECK_EQ(pthread_join(th, &ret), 0);
	TAP_CHECK_EQ((intptr_t)ret, 0);
}

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void test_kill_ends_all_threads(void)
{
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		for (int i = 0; i < 3; i++)
			pthread_create(&th, NULL, sleep_forever, NULL);
		for (;;)
			pause();
	}
	usleep(20000);
	TAP_CHECK_EQ(kill(pid, SIGTERM), 0);
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

static void *exec_true(void *arg)
{
	(void)arg;
	execl("/bin/true", "true", (char *)NULL);
	return NULL;
}

static void test_exec_from_thread(void)
{
	pid_t pid = fork();
	int status;

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		pthread_create(&th, NULL, sleep_forever, NULL);
		pthread_create(&th, NULL, exec_true, NULL);
		for (;;)
			pause();
	}
	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid);
	TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const struct tap_test tests[] = {
	{ "pthread_create and pthread_join return values", test_create_join },
	{ "8 threads count to 80000 under a mutex", test_mutex_counter },
	{ "condition variable ping-pong", test_cond_pingpong },
	{ "getpid is shared, gettid is per thread", test_ids },
	{ "exit() in a thread ends the process with its status", test_exit_group_from_thread },
	{ "detached threads run", test_detached },
	{ "kill() to the process reaches a thread not blocking the signal", test_kill_process },
	{ "pthread_kill signals that thread", test_pthread_kill },
	{ "pthread_cond_timedwait times out with ETIMEDOUT", test_cond_timedwait },
	{ "futex: EAGAIN on a changed word, ETIMEDOUT", test_futex_raw },
	{ "pthread_exit in one thread, others continue", test_pthread_exit },
	{ "main thread pthread_exit: process lives until the last thread", test_main_pthread_exit },
	{ "threads share memory", test_shared_memory },
	{ "fork from a thread: the child has one thread", test_fork_in_thread },
	{ "a fatal signal ends every thread", test_kill_ends_all_threads },
	{ "execve in a thread ends the other threads", test_exec_from_thread },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
