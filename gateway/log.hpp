#pragma once
// Logging with one event id per message (OAGnnnn), as text or JSON lines. Never given a key,
// RES, SRES, Kc, CK or IK: callers pass identities, routes, statuses and counts only.

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "config/config.hpp"

namespace oag::gateway::log {

/// Event ids (stable: operators alert on them).
namespace event {
inline constexpr const char* kStarted = "OAG1001";
inline constexpr const char* kListening = "OAG1002";
inline constexpr const char* kStopping = "OAG1003";
inline constexpr const char* kStopped = "OAG1004";
inline constexpr const char* kReloaded = "OAG1005";
inline constexpr const char* kReloadFailed = "OAG1006";
inline constexpr const char* kConfigError = "OAG1007";
inline constexpr const char* kReloadPartial = "OAG1008";
inline constexpr const char* kAccess = "OAG2001";
inline constexpr const char* kHandshakeFailed = "OAG2002";
inline constexpr const char* kConnectionRefused = "OAG2003";
inline constexpr const char* kStoreError = "OAG3001";
inline constexpr const char* kInternalError = "OAG3002";
inline constexpr const char* kHandlerTimeout = "OAG3003";
inline constexpr const char* kPeerFailed = "OAG4001";
inline constexpr const char* kLoginAccepted = "OAG5001";
inline constexpr const char* kLoginRefused = "OAG5002";
inline constexpr const char* kLoginDisabled = "OAG5003";
}  // namespace event

/// Fields after the message: key=value (text), JSON members, or journal fields OAG_<KEY>.
using Fields = std::initializer_list<std::pair<const char*, std::string>>;

/// A message's level.
enum class Level { debug, info, warn, error };

/// Sets the process logger from `c`'s logging section: level, format (stderr, or the
/// journal; automatic: the journal when $JOURNAL_STREAM ("device:inode") is our stderr, as
/// systemd sets it for a service whose output it reads, else text), journal socket and access
/// sampling.
void setup(const config::Config& c);
/// True when info messages are written (to skip building fields that would be dropped).
bool enabled_info();
/// The level this request's access line goes at, if any: debug for every request when debug
/// is on, info for one in logging.access_sample.
std::optional<Level> access_level();
/// Logs at `level`.
void at(Level level, const char* event_id, const std::string& msg, Fields fields = {});
/// Logs at info.
void info(const char* event_id, const std::string& msg, Fields fields = {});
/// Logs at warn.
void warn(const char* event_id, const std::string& msg, Fields fields = {});
/// Logs at error.
void error(const char* event_id, const std::string& msg, Fields fields = {});
/// Logs at debug.
void debug(const char* event_id, const std::string& msg, Fields fields = {});

}  // namespace oag::gateway::log
