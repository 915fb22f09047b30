// Zero-copy row-major Eigen views over NumPy buffers.
#pragma once
#include <Eigen/Core>
#include <cstdint>

namespace ember {

template <class T>
using MatrixRM = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMatrixMap = Eigen::Map<const MatrixRM<T>>;
template <class T>
using MatrixMap = Eigen::Map<MatrixRM<T>>;
template <class T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;

}  // namespace ember
