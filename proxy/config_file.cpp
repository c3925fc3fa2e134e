#include "proxy/config_file.hpp"

#include <toml++/toml.h>
#include <sstream>

namespace sixgate::proxy {
namespace {

Result<std::string> toml_scalar(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
  return make_error(where + ": expected a string, integer or boolean");
}

Result<ChannelConfig> parse_channel(const toml::table& t, const std::string& source) {
  ChannelConfig c;
  for (auto&& [k, node] : t) {
    std::string key(k.str());
    std::string where = source + ": channel." + key;
    if (key == "listen") {
      auto* arr = node.as_array();
      if (!arr) return make_error(where + ": expected an array of strings");
      for (auto& e : *arr) {
        auto s = e.value<std::string>();
        if (!s || !e.is_string()) return make_error(where + ": expected an array of strings");
        c.listen.push_back(*s);
      }
    } else if (key == "site") {
      auto* arr = node.as_array();
      if (!arr) return make_error(where + ": expected [[channel.site]] tables");
      for (auto& e : *arr) {
        auto* st = e.as_table();
        if (!st) return make_error(where + ": expected [[channel.site]] tables");
        ChannelSiteConfig site;
        bool have_prefix = false;
        for (auto&& [sk, sn] : *st) {
          std::string skey(sk.str());
          std::string swhere = where + "." + skey;
          auto sv = sn.value<std::string>();
          if (!sv || !sn.is_string()) return make_error(swhere + ": expected a string");
          if (skey == "name") {
            site.name = *sv;
          } else if (skey == "key_file") {
            site.key_file = *sv;
          } else if (skey == "gateway") {
            site.gateway = *sv;
          } else if (skey == "routed_prefix") {
            auto p = Ipv6Prefix::parse(*sv);
            if (!p) return make_error(swhere + ": " + p.error().message);
            site.routed_prefix = *p;
            have_prefix = true;
          } else {
            return make_error(swhere + ": unknown key");
          }
        }
        if (site.name.empty()) return make_error(where + ": a site needs a name");
        if (site.key_file.empty()) return make_error(where + " '" + site.name + "': key_file is required");
        if (!have_prefix) return make_error(where + " '" + site.name + "': routed_prefix is required");
        c.sites.push_back(std::move(site));
      }
    } else {
      return make_error(where + ": unknown key");
    }
  }
  return c;
}

}  // namespace

Result<ConfigFileValues> parse_config_file(const std::string& text, const std::string& source) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << source << ":" << e.source().begin.line << ": " << e.description();
    return make_error(m.str());
  }
  ConfigFileValues out;
  for (auto&& [k, node] : table) {
    std::string key(k.str());
    std::string where = source + ": " + key;
    if (key == "channel") {
      auto* t = node.as_table();
      if (!t) return make_error(where + ": expected a [channel] table");
      auto c = parse_channel(*t, source);
      if (!c) return c.error();
      out.channel = std::move(*c);
      continue;
    }
    const ConfigKey* known = find_config_key(key);
    if (!known) return make_error(where + ": unknown key");
    std::vector<std::string> values;
    if (auto* arr = node.as_array()) {
      if (!known->multi) return make_error(where + ": takes one value, not an array");
      for (auto& e : *arr) {
        auto s = toml_scalar(e, where);
        if (!s) return s.error();
        values.push_back(*s);
      }
    } else {
      auto s = toml_scalar(node, where);
      if (!s) return s.error();
      values.push_back(*s);
    }
    out.raw[key] = std::move(values);
  }
  return out;
}

}  // namespace sixgate::proxy
