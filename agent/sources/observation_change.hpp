#pragma once
// Whether a source's new observation set is worth reporting: remaining lifetimes count down between two looks
// (and RAs refresh them every few seconds), so lifetimes are compared as deadlines, with some slack.
#include <chrono>
#include <vector>

#include "agent/core/types.hpp"

namespace sixgate::agent {

// True when the sets name different prefixes, or a prefix's valid or preferred deadline (time of the look
// plus remaining lifetime) moved by more than `slack`, or changed between finite and infinite.
bool observations_differ(const std::vector<PrefixObservation>& before,
                         std::chrono::steady_clock::time_point before_at,
                         const std::vector<PrefixObservation>& after,
                         std::chrono::steady_clock::time_point after_at, std::chrono::seconds slack);

}  // namespace sixgate::agent
