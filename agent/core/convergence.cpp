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

std::string signature(const Plan& plan) {
  std::string out;
  for (const Operation& op : plan.operations) {
    out += std::string(to_string(op.verb)) + " " + op.menu + " " + op.id + " " + op.destination + "\n";
    for (const auto& [k, v] : op.fields) out += k + "=" + v + "\n";
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
  if (plan.empty()) {
    rounds_ = 0;
    return std::nullopt;
  }
  std::string wanted = signature(desired), planned = signature(plan);
  if (wanted != desired_signature_ || planned != plan_signature_) {
    desired_signature_ = std::move(wanted);
    plan_signature_ = std::move(planned);
    rounds_ = 0;
  }
  if (++rounds_ < max_rounds_) return std::nullopt;
  // The same text every round while it lasts: it is logged and sent to the proxy only when it changes.
  return describe_not_converging(plan, max_rounds_);
}

std::string describe_not_converging(const Plan& plan, int rounds) {
  std::string operations;
  for (const Operation& op : plan.operations) operations += (operations.empty() ? "" : "; ") + describe(op);
  return "the router still differs after " + std::to_string(rounds) +
         " rounds (something changes it back, or it normalises a value differently): " + operations;
}

}  // namespace sixgate::agent
