#include "agent/commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <optional>
#include <string>

#include "agent/agent.hpp"
#include "agent/channel_client.hpp"
#include "agent/one_shot.hpp"
#include "agent/router_api.hpp"
#include "agent/routeros/client.hpp"
#include "agent/sources_from_config.hpp"
#include "agent/state_file.hpp"
#include "common/log.hpp"

namespace sixgate::agent {
namespace {

routeros::ClientOptions client_options(const RouterConfig& r) {
  routeros::ClientOptions o;
  o.base_url = r.url;
  o.ca_file = r.ca_file;
  o.fingerprint_sha256 = r.fingerprint_sha256;
  o.insecure = r.insecure;
  o.timeout = r.timeout;
  o.max_retries = r.retries;
  return o;
}

// How long a one-shot command waits for every source's first report: a dhcp-client read may need all retries.
std::chrono::milliseconds source_timeout(const AgentConfig& c) {
  auto per_request = c.router.timeout * (c.router.retries + 1) + std::chrono::seconds(2);
  return std::max<std::chrono::milliseconds>(per_request, std::chrono::seconds(5));
}

int run_daemon(const AgentConfig& config, routeros::Client& client, bool dry_run) {
  boost::asio::io_context io;
  auto source_router =
      make_router_api(client);  // the dhcp-client source's reads (the client serialises them)
  AgentOptions options;
  options.dry_run = dry_run;
  Agent agent(io, config, make_router_api(client), make_sources(config, *source_router), options);
  StatusGetter status = [&agent] { return agent.status(); };

  // A configured channel that cannot start is fatal: running without it would leave `status` saying healthy
  // ("no proxies configured") while the proxies hear nothing. The control socket only serves `status`, so its
  // failure is logged and the router is still kept right.
  // With channel.use_proxy_prefixes the first configured proxy is the source of truth for the routed prefix
  // (several proxies disagreeing must not make the rule flap); the others only produce mismatch warnings.
  ProxyPrefixesCallback from_proxy;
  if (config.channel.use_proxy_prefixes && !config.channel.proxies.empty()) {
    from_proxy = [&agent, first = config.channel.proxies.front().name](const std::string& proxy,
                                                                       const Ipv6Prefix& routed) {
      if (proxy == first) agent.use_routed_prefix(routed, proxy);
    };
  }
  auto started = start_channel_client(io, config, status, from_proxy);
  if (!started) {
    log::event(spdlog::level::critical, "startup_failed", {{"error", started.error().message}});
    std::cerr << "sixgate-agent: " << started.error().message << "\n";
    return exit_error;
  }
  std::unique_ptr<channel::ChannelClient> channel = std::move(started).value();
  if (channel) agent.set_change_listener([ch = channel.get()] { ch->notify_local_change(); });
  std::unique_ptr<control::ControlServer> control;
  if (auto c = start_control_socket(io, config, status, channel.get()); c) {
    control = std::move(c).value();
  } else {
    log::event(spdlog::level::err, "control_socket_not_started",
               {{"path", config.agent.control_socket}, {"error", c.error().message}});
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log::event(spdlog::level::info, "signal", {{"signal", signo}});
    agent.stop();
    if (channel) channel->stop();
    control.reset();
    io.stop();
  });
  agent.start();
  io.run();
  return exit_ok;
}

enum class OneShot { plan, apply };

// `plan` and `apply --once`: the home prefixes as the sources report them now (plus those remembered in
// state_dir that are still within their lifetime), then one plan or one apply. Only apply updates the memory.
int run_one_shot(const AgentConfig& config, RouterApi& router, OneShot what) {
  std::vector<PrefixObservation> remembered, memory;
  if (!config.agent.state_dir.empty()) {
    auto loaded = load_remembered_prefixes(config.agent.state_dir);
    if (!loaded) {
      std::cerr << "sixgate-agent: " << loaded.error().message << "\n";
      return exit_error;
    }
    remembered = std::move(loaded).value();
  }
  auto sources = make_sources(config, router);
  auto home = gather_home_prefixes(sources, source_timeout(config), remembered, &memory);
  if (!home) {
    std::cerr << "sixgate-agent: " << home.error().message << "\n";
    return exit_error;
  }
  if (what == OneShot::plan) return run_plan(config, router, *home, std::cout, std::cerr);
  int code = run_apply_once(config, router, *home, std::cout, std::cerr);
  if (!config.agent.state_dir.empty()) {
    if (Status saved = save_remembered_prefixes(config.agent.state_dir, memory); !saved) {
      std::cerr << "sixgate-agent: " << saved.error().message << "\n";
      return exit_error;
    }
  }
  return code;
}

}  // namespace

int run_agent_cli(int argc, char** argv) {
  CLI::App app{
      "sixgate-agent: follows the home network's delegated IPv6 prefix and keeps the RouterOS policy "
      "routing (mangle rule, address-list, routing table, route) right"};
  app.set_version_flag("--version", std::string("sixgate-agent ") + SIXGATE_VERSION);
  std::string config_path = "/etc/sixgate/agent.toml";
  std::optional<std::string> log_level, log_format;
  app.add_option("--config", config_path, "configuration file (TOML)")->capture_default_str();
  app.add_option("--log-level", log_level,
                 "trace|debug|info|warn|error (default $SIXGATE_LOG_LEVEL or info)");
  app.add_option("--log-format", log_format, "plain|json (default $SIXGATE_LOG_FORMAT or plain)");
  app.require_subcommand(1);

  bool dry_run = false, once = false;
  CLI::App* run = app.add_subcommand("run", "run as a daemon: follow the prefixes, keep the router in sync");
  run->add_flag("--dry-run", dry_run, "plan and log the changes, never write to the router");
  run->fallthrough();
  CLI::App* plan_cmd = app.add_subcommand(
      "plan", "show the changes the agent would make (exit 0: none, 2: changes, 1: error)");
  plan_cmd->fallthrough();
  CLI::App* apply =
      app.add_subcommand("apply", "apply the changes once and exit (exit 0: in sync, 1: error)");
  apply->add_flag("--once", once, "required: apply once and exit (the daemon is `run`)")->required();
  apply->fallthrough();
  // `status` (agent/status_command.hpp) is routed by main() before this parser; the footer lists it.
  app.footer(
      "\n  status [--json] [--control-socket PATH]\n"
      "                              ask the running daemon: prefixes, router sync, proxies\n"
      "\nExit codes:\n"
      "  0  ok (status: healthy)\n"
      "  1  error: bad config or key file, router unreachable, apply failed, daemon could not start\n"
      "     (status: unhealthy)\n"
      "  2  usage error (unknown option, missing subcommand); plan: changes are pending\n"
      "  3  status: daemon unreachable\n");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  if (Status s = log::setup(log_level, log_format); !s) {
    std::cerr << "sixgate-agent: " << s.error().message << "\n";
    return 2;
  }
  auto config = load_agent_config(config_path);
  if (!config) {
    std::cerr << "sixgate-agent: " << config.error().message << "\n";
    return exit_error;
  }
  if (*run) {
    // Before anything touches the router: a proxy address or key file that is wrong stops the daemon here.
    if (auto channel = channel_client_options(*config); !channel) {
      std::cerr << "sixgate-agent: " << config_path << ": " << channel.error().message << "\n";
      return exit_error;
    }
  }
  auto credentials = routeros::load_credentials(config->router.credentials_file);
  if (!credentials) {
    std::cerr << "sixgate-agent: router credentials: " << credentials.error().message << "\n";
    return exit_error;
  }
  if (config->router.insecure)
    log::event(
        spdlog::level::warn, "router_tls_insecure",
        {{"router", config->router.url}, {"note", "certificate verification is off (router.insecure)"}});

  routeros::Client client(client_options(config->router), std::move(credentials).value());
  auto router = make_router_api(client);

  if (*run) return run_daemon(*config, client, dry_run);
  return run_one_shot(*config, *router, *plan_cmd ? OneShot::plan : OneShot::apply);
}

}  // namespace sixgate::agent
