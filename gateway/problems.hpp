#pragma once
// Responses every handler builds, one place each: JSON and problem+json answers, the mapping of
// store errors (not found, not allowed, backend failure kept apart), and the request boundary
// (an exception becomes one 500 `internal` with an incident id, never a dead process).

#include <string>
#include <utility>

#include "gateway/http_types.hpp"
#include "proto/wire/problem.hpp"
#include "storage/result.hpp"

namespace oag::gateway {

/// An answer of `content_type` with `body`.
Response plain_response(int status, std::string content_type, std::string body, std::string route);
/// A 200 (or `status`) JSON answer.
Response json_response(int status, std::string body, std::string route);
/// A 204.
Response no_content(std::string route);
/// The problem+json answer for `p`.
Response problem(const wire::Problem& p, std::string route);
/// The problem for a store error (not found, not allowed, backend failure kept apart).
wire::Problem problem_of(const storage::Error& e);
/// The answer for a store error; a backend failure's detail goes to the log only.
Response store_problem(const storage::Error& e, std::string route);
/// The 500 for an exception: a fresh incident id in the answer, `what` only in the log
/// (event log::event::kInternalError).
Response internal_error(const std::string& what, std::string route);

/// Runs `f`; an exception it throws is answered with internal_error on `reply` (if nothing was
/// answered yet) instead of escaping into a store thread, the writer or an I/O thread.
template <typename F>
void run_guarded(const Reply& reply, const std::string& route, F&& f) noexcept {
  try {
    std::forward<F>(f)();
  } catch (const std::exception& e) {
    reply(internal_error(e.what(), route));
  } catch (...) {
    reply(internal_error("unknown exception", route));
  }
}

/// A completion that runs `f(args...)` under run_guarded: for store and peer callbacks.
template <typename F>
auto guarded(Reply reply, std::string route, F f) {
  return [reply = std::move(reply), route = std::move(route),
          f = std::move(f)](auto&&... args) mutable {
    run_guarded(reply, route, [&] { f(std::forward<decltype(args)>(args)...); });
  };
}

}  // namespace oag::gateway
