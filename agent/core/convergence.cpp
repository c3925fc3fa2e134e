#include "agent/core/convergence.hpp"

namespace sixgate::agent {
namespace {

// Equal for equal desired states; only compared, never shown.
std::string signature(const DesiredState& desired) {
  std::string out = desired.hold_policy ? "hold\n" : "manage\n";
  out += std::to_string(static_cast<int>(desired.position.kind)) + desired.position.comment + "\n";
  for (const DesiredObject& o : desired.objects) {
    out += o.menu + "\n";
    for (const auto& [k, v] : o.fields) out += k + "=" + v + "\n";
  }
  return out;
}

std::string describe(const Operation& op) {
  std::string out = std::string(to_string(op.verb)) + " " + op.menu;
  if (!op.id.empty()) out += " " + op.id;
  out += " (" + op.label + ")";
  if (op.verb == Verb::set) {
    std::string fields;
    for (const auto& [k, v] : op.fields) fields += (fields.empty() ? "" : " ") + k + "=" + v;
    out += ": " + fields;
  }
  return out;
}

}  // namespace

std::optional<std::string> ConvergenceWatch::after_round(const DesiredState& desired, const Plan& plan) {
  std::string current = signature(desired);
  if (current != desired_signature_) {
    desired_signature_ = std::move(current);
    rounds_ = 0;
  }
  if (plan.empty()) {
    rounds_ = 0;
    return std::nullopt;
  }
  if (++rounds_ < max_rounds_) return std::nullopt;
  std::string operations;
  for (const Operation& op : plan.operations) operations += (operations.empty() ? "" : "; ") + describe(op);
  return "the router still differs after " + std::to_string(rounds_) +
         " rounds (something changes it back, or it normalises a value differently): " + operations;
}

}  // namespace sixgate::agent
