// Node-API addon: compile a pattern with RE2 as Envoy does (quiet, Envoy's encoding) and report
// RE2's verdict and program size, so Weft can refuse at admission what Envoy would refuse when
// the config arrives (Envoy rejects ProgramSize() > re2.max_program_size.error_level, default
// 100). check(pattern, latin1): Envoy 1.40 measures as RE2's Latin-1 encoding does (see
// src/model/regex.ts). Built by scripts/install-re2.sh from the RE2 and Abseil sources the
// npm package `re2` vendors; never committed built.
#include <node_api.h>
#include <re2/re2.h>
#include <string>

static napi_value Check(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], nullptr, 0, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "check(pattern: string, latin1?: boolean)");
    return nullptr;
  }
  std::string pattern(len, '\0');
  napi_get_value_string_utf8(env, argv[0], &pattern[0], len + 1, &len);
  bool latin1 = false;
  if (argc > 1) napi_get_value_bool(env, argv[1], &latin1);
  re2::RE2::Options options(re2::RE2::Quiet);
  if (latin1) options.set_encoding(re2::RE2::Options::EncodingLatin1);
  re2::RE2 re(pattern, options);
  napi_value out, v;
  napi_create_object(env, &out);
  if (re.ok()) {
    napi_create_int32(env, re.ProgramSize(), &v);
    napi_set_named_property(env, out, "programSize", v);
  } else {
    const std::string& err = re.error();
    napi_create_string_utf8(env, err.data(), err.size(), &v);
    napi_set_named_property(env, out, "error", v);
  }
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "check", NAPI_AUTO_LENGTH, Check, nullptr, &fn);
  napi_set_named_property(env, exports, "check", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
