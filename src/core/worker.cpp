// worker.cpp — Worker (see worker.h).
#include "worker.h"

#include <signal.h>

namespace nmvec {

Worker::Worker() {
    // Block every signal while the thread starts, so it inherits a full
    // mask; then restore this thread's own.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        thread_ = std::thread([this] { loop(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Worker::~Worker() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Worker::Job> Worker::submit(std::function<void()> fn) {
    auto job = std::make_shared<Job>();
    job->fn_ = std::move(fn);
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(job);
    }
    work_cv_.notify_one();
    return job;
}

void Worker::wait(Job& job) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return job.done_; });
    if (job.error_) std::rethrow_exception(job.error_);
}

bool Worker::done(const Job& job) const {
    std::lock_guard<std::mutex> lock(mu_);
    return job.done_;
}

bool Worker::take(Job& job) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->get() != &job) continue;
        job.fn_ = nullptr;
        job.done_ = true;
        queue_.erase(it);  // last: *it may own the job
        return true;
    }
    return false;
}

size_t Worker::completed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return completed_;
}

void Worker::loop() {
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, nothing left
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        std::exception_ptr error;
        try {
            job->fn_();
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            job->error_ = error;
            job->fn_ = nullptr;  // release what it captured
            job->done_ = true;
            ++completed_;
        }
        done_cv_.notify_all();
    }
}

}  // namespace nmvec
