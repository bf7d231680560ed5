#pragma once
// The group-commit writer: one thread that takes queued jobs in batches and runs each batch in
// one transaction of one connection, so that durability costs one commit per batch rather than
// one per request. It knows no domain state: a job runs, finishes, and undoes what it changed in
// memory when its writes are rolled back; the connection is reached only through Transactions.
//
// The rule every job keeps: a *returned* Error means it wrote nothing; a *thrown* one means it
// may have written, and its writes (and, through undo(), its in-memory changes) are undone.

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "storage/result.hpp"

namespace oag::storage::writer {

/// How one job ended.
/// How one job ended: `retry` when it hit a RetryBatch (the whole batch runs again).
enum class RunOutcome { ok, failed_clean, failed_dirty, retry };

/// A unit of work for the writer thread.
class Job {
 public:
  virtual ~Job() = default;
  /// Before its batch runs: tells the connection what the job will read (writer thread), so
  /// that a backend may fetch it for the whole batch at once.
  virtual void hint() noexcept {}
  /// Runs the job's statements on the writer's connection (writer thread).
  virtual RunOutcome run() noexcept = 0;
  /// Reverts the in-memory effects of run() after its writes were rolled back.
  virtual void undo() noexcept = 0;
  /// After the commit (nullptr), or with the reason the whole batch failed.
  virtual void finish(const Error* batch_failure) noexcept = 0;
};

/// Thrown by a backend for a failure after which the whole batch may simply run again (a
/// deadlock or serialization failure between instances): nothing of it was committed.
class RetryBatch : public StoreError {
 public:
  using StoreError::StoreError;
};

/// What the writer needs of its connection. Each call throws on a database failure.
class Transactions {
 public:
  virtual ~Transactions() = default;
  /// Starts a write transaction.
  virtual void begin() = 0;
  /// Before the commit of a batch run without savepoints: writes what the connection held back
  /// for the whole batch; false when any of it conflicted (the batch then runs again, a
  /// savepoint per job, and nothing is held back).
  virtual bool flush() { return true; }
  /// Commits it.
  virtual void commit() = 0;
  /// Rolls it back (when one is open).
  virtual void rollback() = 0;
  /// Sets the per-request savepoint.
  virtual void savepoint() = 0;
  /// Releases it.
  virtual void release() = 0;
  /// Rolls back to it (the transaction stays usable).
  virtual void rollback_to_savepoint() = 0;
  /// After a failed batch: roll back what is open, reconnect when the connection is lost.
  /// Never throws.
  virtual void recover() noexcept = 0;
};

/// Commits by batch size: bucket i counts batches of size <= 2^i (i < 10), the last the rest.
using BatchHistogram = std::array<std::uint64_t, 11>;

/// Upper bounds (seconds) of the commit-duration buckets; a last bucket counts the rest.
inline constexpr std::array<double, 10> kCommitBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                          0.005,  0.01,    0.025,  0.1,   1};
/// Commits by duration: bucket i counts those that took at most kCommitBuckets[i] (not
/// cumulative), the last those that took longer.
using CommitHistogram = std::array<std::uint64_t, kCommitBuckets.size() + 1>;

/// Counters since start.
struct WriterStats {
  std::uint64_t commits = 0;      ///< batches committed
  std::uint64_t requests = 0;     ///< jobs in them
  std::size_t queued = 0;         ///< jobs waiting now
  BatchHistogram batch_hist{};    ///< batch sizes
  CommitHistogram commit_hist{};  ///< from BEGIN to a durable COMMIT, retries included
  double commit_seconds = 0;      ///< their sum
};

/// Converts the exception in flight into an Error (StoreError keeps its code; anything else is
/// the backend failing: unavailable).
Error error_of_current_exception() noexcept;

/// A job from two functions: `fn` runs in the transaction, `done` gets its result after the
/// commit; `undo` (may be empty) reverts what `fn` changed in memory.
template <typename T>
class FnJob final : public Job {
 public:
  /// The job.
  FnJob(std::function<Result<T>()> fn, std::function<void(Result<T>)> done,
        std::function<void()> undo, std::function<void()> hint = {})
      : fn_(std::move(fn)),
        done_(std::move(done)),
        undo_(std::move(undo)),
        hint_(std::move(hint)) {}
  void hint() noexcept override {
    try {
      if (hint_) hint_();
    } catch (...) {
      // A hint is an optimisation only.
    }
  }
  RunOutcome run() noexcept override {
    r_.reset();
    try {
      r_.emplace(fn_());
      return r_->ok() ? RunOutcome::ok : RunOutcome::failed_clean;
    } catch (const RetryBatch& e) {
      r_.emplace(e.error());
      return RunOutcome::retry;
    } catch (...) {
      r_.emplace(error_of_current_exception());
      return RunOutcome::failed_dirty;
    }
  }
  void undo() noexcept override {
    if (undo_) undo_();
  }
  void finish(const Error* batch_failure) noexcept override {
    try {
      if (batch_failure != nullptr || !r_)
        done_(Result<T>(batch_failure ? *batch_failure : Error{Errc::unavailable, "not run"}));
      else
        done_(std::move(*r_));
    } catch (...) {
      // A completion that throws must not take the writer down.
    }
  }

 private:
  std::function<Result<T>()> fn_;
  std::function<void(Result<T>)> done_;
  std::function<void()> undo_;
  std::function<void()> hint_;
  std::optional<Result<T>> r_;
};

/// The writer thread.
class GroupCommitWriter {
 public:
  /// A writer over `tx` with at most `max_batch` jobs per transaction; starts its thread.
  /// `after_failure` runs on the writer thread after a batch failed (a commit whose outcome is
  /// unknown leaves in-memory state that only the database can tell).
  GroupCommitWriter(Transactions& tx, std::size_t max_batch,
                    std::function<void()> after_failure = {});
  /// Serves what is queued, then stops.
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  /// Queues `job`; when stopping, finishes it at once with "store is closing".
  void submit(std::unique_ptr<Job> job);

  /// Queues a function job.
  template <typename T>
  void submit(std::function<Result<T>()> fn, std::function<void(Result<T>)> done,
              std::function<void()> undo = {}, std::function<void()> hint = {}) {
    submit(std::make_unique<FnJob<T>>(std::move(fn), std::move(done), std::move(undo),
                                      std::move(hint)));
  }

  /// Queues a function job and waits for its commit.
  template <typename T>
  Result<T> call(std::function<Result<T>()> fn, std::function<void()> undo = {}) {
    std::promise<Result<T>> p;
    auto f = p.get_future();
    submit<T>(
        std::move(fn), [&p](Result<T> r) { p.set_value(std::move(r)); }, std::move(undo));
    return f.get();
  }

  /// Counters.
  WriterStats stats() const;

 private:
  void loop();
  void run_batch(std::vector<std::unique_ptr<Job>>& batch);
  bool run_transaction(std::vector<std::unique_ptr<Job>>& batch, bool savepoints);
  static void undo_all(std::vector<std::unique_ptr<Job>>& batch) noexcept;

  Transactions& tx_;
  std::size_t max_batch_;
  std::function<void()> after_failure_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stop_ = false;
  WriterStats stats_;
  std::thread thread_;
};

}  // namespace oag::storage::writer
