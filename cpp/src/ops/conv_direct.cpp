#include "ember/conv_direct.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

bool conv2d_direct_applies(const ConvShape& s) {
  return s.c_in == 1 && s.groups == 1 && s.stride_h == 1 && s.stride_w == 1 &&
         s.dilation_h == 1 && s.dilation_w == 1;
}

namespace {

using namespace simd;

// Sample n's plane with its zero padding; row stride `width` (padded width plus a vector of
// slack, so full-vector loads past a row's end stay inside the buffer).
template <class T>
struct PaddedPlane {
  std::vector<T> data;
  int64_t width;
  PaddedPlane(const ConvShape& s, const T* plane) {
    const int64_t ph = s.h + s.pad_top + s.pad_bottom;
    width = s.w + s.pad_left + s.pad_right;
    data.assign((ph + 1) * width + 2 * lanes<T>, T(0));
    for (int64_t y = 0; y < s.h; ++y)
      std::copy(plane + y * s.w, plane + (y + 1) * s.w,
                data.data() + (y + s.pad_top) * width + s.pad_left);
  }
  const T* row(int64_t y) const { return data.data() + y * width; }
};

template <class T>
inline Vec<T> relu_vec(const Vec<T>& v) {
  return v < T(0) ? Vec<T>{} : v;  // NaN stays NaN, as torch.relu
}


// NCHW: four output channels of one output row at a time, two vectors of columns per step.
template <class T>
void forward_nchw_sample(const ConvShape& s, const PaddedPlane<T>& x, const T* weight,
                         const T* bias, T* out, bool relu) {
  constexpr int L = lanes<T>, kCo = 4;
  const int64_t oh = s.out_h(), ow = s.out_w(), taps = s.kh * s.kw;
  for (int64_t co0 = 0; co0 < s.c_out; co0 += kCo) {
    const int co_n = int(std::min<int64_t>(kCo, s.c_out - co0));
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x0 = 0; x0 < ow; x0 += 2 * L) {
        const int m0 = int(std::min<int64_t>(L, ow - x0)), m1 = int(std::clamp<int64_t>(ow - x0 - L, 0, L));
        Vec<T> acc[kCo][2];
        for (int b = 0; b < kCo; ++b) {
          const T b0 = bias && b < co_n ? bias[co0 + b] : T(0);
          acc[b][0] = Vec<T>{} + b0, acc[b][1] = Vec<T>{} + b0;
        }
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            const T* r = x.row(y + i) + x0 + j;
            const Vec<T> v0 = load<Vec<T>>(r), v1 = load<Vec<T>>(r + L);  // slack covers it
            for (int b = 0; b < kCo; ++b) {
              const T wv = b < co_n ? weight[(co0 + b) * taps + i * s.kw + j] : T(0);
              acc[b][0] += wv * v0, acc[b][1] += wv * v1;
            }
          }
        for (int b = 0; b < co_n; ++b) {
          T* o = out + ((co0 + b) * oh + y) * ow + x0;
          store_first(o, relu ? relu_vec<T>(acc[b][0]) : acc[b][0], m0);
          if (m1 > 0) store_first(o + L, relu ? relu_vec<T>(acc[b][1]) : acc[b][1], m1);
        }
      }
  }
}

// The weight tap-major, (kh * kw, c_out) with rows padded to whole vectors, for NHWC.
template <class T>
struct TapMajorWeight {
  std::vector<T> data;
  int64_t stride;
  TapMajorWeight(const ConvShape& s, const T* weight) {
    const int64_t taps = s.kh * s.kw;
    stride = (s.c_out + lanes<T> - 1) / lanes<T> * lanes<T>;
    data.assign(taps * stride, T(0));
    for (int64_t co = 0; co < s.c_out; ++co)
      for (int64_t t = 0; t < taps; ++t) data[t * stride + co] = weight[co * taps + t];
  }
  const T* tap(int64_t t) const { return data.data() + t * stride; }
};

// NHWC: four output pixels at a time, the output channels in vectors.
template <class T>
void forward_nhwc_sample(const ConvShape& s, const PaddedPlane<T>& x,
                         const TapMajorWeight<T>& weight, const T* bias, T* out, bool relu) {
  constexpr int L = lanes<T>, kPx = 4;
  const int64_t oh = s.out_h(), ow = s.out_w(), c = s.c_out;
  for (int64_t c0 = 0; c0 < c; c0 += L) {
    const int cn = int(std::min<int64_t>(L, c - c0));
    const Vec<T> b = bias ? load_first<Vec<T>>(bias + c0, cn) : Vec<T>{};
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x0 = 0; x0 < ow; x0 += kPx) {
        const int px_n = int(std::min<int64_t>(kPx, ow - x0));
        Vec<T> acc[kPx] = {b, b, b, b};
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            const Vec<T> wv = load<Vec<T>>(weight.tap(i * s.kw + j) + c0);
            const T* r = x.row(y + i) + x0 + j;
            for (int p = 0; p < kPx; ++p) acc[p] += r[p] * wv;  // the slack covers p >= px_n
          }
        for (int p = 0; p < px_n; ++p)
          store_first(out + (y * ow + x0 + p) * c + c0, relu ? relu_vec<T>(acc[p]) : acc[p], cn);
      }
  }
}

}  // namespace

template <class T>
void conv2d_direct_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                           T* output, bool relu) {
  const int64_t out_size = s.c_out * s.out_h() * s.out_w();
  std::optional<TapMajorWeight<T>> weight_t;
  if (s.channels_last) weight_t.emplace(s, weight);
  parallel_for(s.n, 2 * out_size * s.kh * s.kw, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const PaddedPlane<T> x(s, input + n * s.h * s.w);
      if (s.channels_last)
        forward_nhwc_sample(s, x, *weight_t, bias, output + n * out_size, relu);
      else
        forward_nchw_sample(s, x, weight, bias, output + n * out_size, relu);
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void conv2d_direct_forward<T>(const ConvShape&, const T*, const T*, const T*, T*,  \
                                         bool);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
