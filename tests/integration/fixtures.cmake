# Included by CTest after the integration tests are discovered (tests/integration/CMakeLists.txt).
foreach(t IN LISTS oagd_integration_tests)
  set_tests_properties("${t}" PROPERTIES FIXTURES_REQUIRED "postgresql;openapi")
endforeach()
