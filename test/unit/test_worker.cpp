// Unit tests of Worker (src/core/worker.h).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <signal.h>
#include <stdexcept>
#include <vector>

#include "worker.h"

namespace {

TEST(Worker, RunsJobsInOrder) {
    nmvec::Worker w;
    std::vector<int> seen;  // only the worker writes it until the waits
    std::vector<std::shared_ptr<nmvec::Worker::Job>> jobs;
    for (int i = 0; i < 100; ++i) jobs.push_back(w.submit([&seen, i] { seen.push_back(i); }));
    for (auto& j : jobs) w.wait(*j);
    ASSERT_EQ(seen.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
    EXPECT_EQ(w.completed(), 100u);
}

TEST(Worker, RethrowsInWait) {
    nmvec::Worker w;
    auto bad = w.submit([] { throw std::runtime_error("job failed"); });
    auto good = w.submit([] {});
    EXPECT_THROW(w.wait(*bad), std::runtime_error);
    EXPECT_NO_THROW(w.wait(*good));                  // the thread goes on after a failed job
    EXPECT_THROW(w.wait(*bad), std::runtime_error);  // and keeps the error
}

TEST(Worker, DestructorFinishesQueuedJobs) {
    std::atomic<int> ran{0};
    {
        nmvec::Worker w;
        for (int i = 0; i < 50; ++i) w.submit([&ran] { ran.fetch_add(1); });
    }
    EXPECT_EQ(ran.load(), 50);
}

TEST(Worker, ThreadBlocksSignals) {
    nmvec::Worker w;
    bool all_blocked = false;
    w.wait(*w.submit([&all_blocked] {
        sigset_t cur;
        pthread_sigmask(SIG_SETMASK, nullptr, &cur);
        all_blocked = sigismember(&cur, SIGINT) == 1 && sigismember(&cur, SIGUSR1) == 1 &&
                      sigismember(&cur, SIGTERM) == 1 && sigismember(&cur, SIGQUIT) == 1;
    }));
    EXPECT_TRUE(all_blocked);
    // The creating thread's own mask is unchanged.
    sigset_t mine;
    pthread_sigmask(SIG_SETMASK, nullptr, &mine);
    EXPECT_EQ(sigismember(&mine, SIGINT), 0);
}

TEST(Worker, AJobOutlivesItsCallerViaCapturedState) {
    nmvec::Worker w;
    std::shared_ptr<nmvec::Worker::Job> last;
    auto data = std::make_shared<std::vector<int>>(1000, 1);
    int sum = 0;
    last = w.submit([data, &sum] {
        for (int v : *data) sum += v;
    });
    data.reset();  // the caller lets go; the job still holds it
    w.wait(*last);
    EXPECT_EQ(sum, 1000);
}

}  // namespace

namespace {

TEST(Worker, TakeBackAJobNotStarted) {
    // The first job holds the thread until released; the second is queued
    // behind it: take() gets it back (done, never run by the thread), a
    // job that ran cannot be taken, and the thread goes on with the rest.
    nmvec::Worker w;
    std::mutex m;
    std::condition_variable cv;
    bool release = false, started = false;
    std::atomic<int> ran{0};
    auto first = w.submit([&] {
        std::unique_lock<std::mutex> lock(m);
        started = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        ran.fetch_add(1);
    });
    auto second = w.submit([&ran] { ran.fetch_add(10); });
    auto third = w.submit([&ran] { ran.fetch_add(100); });
    {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return started; });
    }
    EXPECT_FALSE(w.take(*first));  // running
    EXPECT_FALSE(w.done(*second));
    EXPECT_TRUE(w.take(*second));
    EXPECT_TRUE(w.done(*second));
    EXPECT_NO_THROW(w.wait(*second));  // does not block
    EXPECT_FALSE(w.take(*second));     // not twice
    {
        std::lock_guard<std::mutex> lock(m);
        release = true;
    }
    cv.notify_all();
    w.wait(*first);
    w.wait(*third);
    EXPECT_FALSE(w.take(*third));  // ran
    EXPECT_EQ(ran.load(), 101);    // the taken job never ran on the thread
    EXPECT_EQ(w.completed(), 2u);
}

}  // namespace
