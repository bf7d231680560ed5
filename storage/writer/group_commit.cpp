#include "storage/writer/group_commit.hpp"

#include <chrono>

#include <exception>

namespace oag::storage::writer {

Error error_of_current_exception() noexcept {
  try {
    throw;
  } catch (const StoreError& e) {
    return e.error();
  } catch (const std::exception& e) {
    return {Errc::unavailable, std::string("database: ") + e.what()};
  } catch (...) {
    return {Errc::unavailable, "unknown failure"};
  }
}

GroupCommitWriter::GroupCommitWriter(Transactions& tx, std::size_t max_batch,
                                     std::function<void()> after_failure)
    : tx_(tx),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      after_failure_(std::move(after_failure)),
      thread_([this] { loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupCommitWriter::submit(std::unique_ptr<Job> job) {
  {
    std::lock_guard lk(mu_);
    if (!stop_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  const Error closing{Errc::unavailable, "store is closing"};
  job->finish(&closing);
}

WriterStats GroupCommitWriter::stats() const {
  std::lock_guard lk(mu_);
  auto s = stats_;
  s.queued = queue_.size();
  return s;
}

void GroupCommitWriter::loop() {
  std::vector<std::unique_ptr<Job>> batch;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued job was served
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

void GroupCommitWriter::undo_all(std::vector<std::unique_ptr<Job>>& batch) noexcept {
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) (*it)->undo();
}

// The fast path runs the whole batch in one transaction without savepoints. If a job fails
// after writing (rare: a constraint hit mid-request), the transaction is rolled back and the
// batch runs again with a savepoint per job, so that job fails alone. A RetryBatch (two
// instances deadlocked) runs the batch again from the start. Nothing of an uncommitted attempt
// was answered, so running a job twice is harmless.
void GroupCommitWriter::run_batch(std::vector<std::unique_ptr<Job>>& batch) {
  constexpr int kMaxRetries = 3;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& j : batch) j->hint();
  for (int attempt = 0;; ++attempt) {
    try {
      if (!run_transaction(batch, false)) {
        tx_.rollback();
        undo_all(batch);
        run_transaction(batch, true);
      }
      break;
    } catch (const RetryBatch& e) {
      undo_all(batch);
      tx_.recover();
      if (after_failure_) after_failure_();
      if (attempt < kMaxRetries) continue;
      for (auto& j : batch) j->finish(&e.error());
      return;
    } catch (...) {
      const Error e = error_of_current_exception();
      undo_all(batch);
      tx_.recover();
      if (after_failure_) after_failure_();
      for (auto& j : batch) j->finish(&e);
      return;
    }
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard lk(mu_);
    ++stats_.commits;
    stats_.requests += batch.size();
    std::size_t slot = 0;
    while (slot < kCommitBuckets.size() && took > kCommitBuckets[slot]) ++slot;
    ++stats_.commit_hist[slot];
    stats_.commit_seconds += took;
    std::size_t bucket = 0;
    while (bucket + 1 < stats_.batch_hist.size() && (std::size_t{1} << bucket) < batch.size())
      ++bucket;
    ++stats_.batch_hist[bucket];
  }
  for (auto& j : batch) j->finish(nullptr);
}

// Runs every job and commits; false (rolled back by the caller) when a job failed dirty
// without savepoints.
bool GroupCommitWriter::run_transaction(std::vector<std::unique_ptr<Job>>& batch, bool savepoints) {
  tx_.begin();
  for (auto& j : batch) {
    if (!savepoints) {
      const auto outcome = j->run();
      if (outcome == RunOutcome::retry) throw RetryBatch({Errc::unavailable, "database: retry"});
      if (outcome == RunOutcome::failed_dirty) return false;
      continue;
    }
    tx_.savepoint();
    const auto outcome = j->run();
    if (outcome == RunOutcome::retry) throw RetryBatch({Errc::unavailable, "database: retry"});
    if (outcome == RunOutcome::failed_dirty) {
      tx_.rollback_to_savepoint();  // only this job's writes go
      j->undo();
    }
    tx_.release();
  }
  if (!savepoints && !tx_.flush()) return false;
  tx_.commit();
  return true;
}

}  // namespace oag::storage::writer
