// worker.h — one helper thread that runs jobs in the order they come, for
// work a backend can hand off and collect later (an ivf insert's list
// choice and encoding, done for a batch of rows while the backend parses
// and stores the next ones).
//
// Jobs are pure computation: they must not call Postgres (no palloc, no
// elog, no locks), as for the parallel hnsw build. The thread blocks every
// signal, so Postgres' handlers only ever run on the backend's own thread.
// An exception a job throws is kept and rethrown by wait(). Destroying the
// Worker finishes the queued jobs and joins the thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace nmvec {

class Worker {
 public:
    /// What submit() returns: wait on it for the job's end.
    class Job {
        friend class Worker;
        std::function<void()> fn_;
        bool done_ = false;
        std::exception_ptr error_;
    };

    Worker();
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Queue fn; the caller keeps the handle (and whatever fn uses alive,
    /// e.g. by capturing shared_ptrs) until it no longer cares.
    std::shared_ptr<Job> submit(std::function<void()> fn);
    /// Block until the job has run; rethrow what it threw.
    void wait(Job& job);
    /// Whether the job has run (wait() would not block).
    bool done(const Job& job) const;
    /// Take back a job the thread has not started: it leaves the queue and
    /// counts as done (wait() returns at once), and the caller does its
    /// work itself (e.g. when it would otherwise wait for an older job).
    /// False when the job has started or run.
    bool take(Job& job);
    /// Jobs run so far (for tests).
    size_t completed() const;

 private:
    void loop();

    mutable std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stop_ = false;
    size_t completed_ = 0;
    std::thread thread_;
};

}  // namespace nmvec
