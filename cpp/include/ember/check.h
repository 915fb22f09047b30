// Validation helpers. Everything here runs before a kernel starts: kernels never throw.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember {

// Raised for arguments whose shapes disagree; surfaces in Python as ember.ShapeError, a
// ValueError and a RuntimeError (what PyTorch raises for shape mismatches).
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Raised for an index or dim outside its range; surfaces in Python as ember.IndexOutOfRangeError,
// an IndexError (what PyTorch raises, what its scripts catch) and a ValueError (ember's habit).
struct IndexOutOfRange : std::out_of_range {
  using std::out_of_range::out_of_range;
};

using Shape = std::vector<int64_t>;

inline std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << (s.size() == 1 ? ",)" : ")");
  return os.str();
}

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

}  // namespace ember

// EMBER_CHECK(cond, "op: ", "message parts", ...) throws ShapeError with the joined message.
#define EMBER_CHECK(cond, ...) \
  do { if (!(cond)) throw ::ember::ShapeError(::ember::concat(__VA_ARGS__)); } while (0)
// EMBER_CHECK_INDEX is for indices, targets and dims out of range (IndexOutOfRangeError).
#define EMBER_CHECK_INDEX(cond, ...) \
  do { if (!(cond)) throw ::ember::IndexOutOfRange(::ember::concat(__VA_ARGS__)); } while (0)
// EMBER_CHECK_ARG is for bad values rather than shapes (ValueError).
#define EMBER_CHECK_ARG(cond, ...) \
  do { if (!(cond)) throw std::invalid_argument(::ember::concat(__VA_ARGS__)); } while (0)
