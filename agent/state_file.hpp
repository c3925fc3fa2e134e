#pragma once
// <state_dir>/prefixes.json: the home prefixes with finite lifetimes, kept across restarts so a prefix that
// vanished (ISP renumbering) stays excluded until its valid lifetime ends even if the agent restarts
// meanwhile. Lifetimes are stored as wall-clock end times.
#include <string>
#include <vector>

#include "agent/core/types.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

std::string prefix_state_path(const std::string& state_dir);

// A missing file is an empty list; prefixes whose lifetime ended are dropped.
Result<std::vector<PrefixObservation>> load_remembered_prefixes(const std::string& state_dir);

// Written atomically (temporary file + rename).
Status save_remembered_prefixes(const std::string& state_dir, const std::vector<PrefixObservation>& prefixes);

}  // namespace sixgate::agent
