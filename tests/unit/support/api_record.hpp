#pragma once
// What the gateway really answered, kept for the OpenAPI check (tests/openapi/check_answers.py):
// when $OAG_API_RECORD names a directory, each answer a test receives is appended to
// DIR/<pid>.jsonl as {"method","path","status","content_type","body"}; otherwise nothing.

#include <string>

namespace oag::test {

/// Records one answer (at most 20,000 per process, so a load test does not fill the disk).
void record_answer(const std::string& method, const std::string& path, int status,
                   const std::string& content_type, const std::string& body);

/// Records every answer of every client::HttpsClient in this process too (call once, early).
void record_https_clients();

}  // namespace oag::test
