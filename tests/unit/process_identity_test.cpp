#include "archive/process_identity.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace pitr {
namespace {

TEST(ProcessIdentity, AProcessThatEndedIsGoneAndALiveOneIsNot) {
  auto me = archive::this_process();
  EXPECT_FALSE(me.boot_id.empty());
  EXPECT_NE(me.pid_namespace, 0u);
  EXPECT_NE(me.start_ticks, 0u);
  EXPECT_FALSE(archive::known_gone(me));

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  if (child == 0) {
    auto who = archive::to_json(archive::this_process()).dump();
    (void)!::write(pipe_fds[1], who.data(), who.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char buf[512] = {};
  auto n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  ASSERT_GT(n, 0);
  auto child_identity = archive::identity_from_json(nlohmann::json::parse(buf));
  EXPECT_EQ(child_identity.pid, child);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(archive::known_gone(child_identity));

  // Seen from elsewhere, nothing is known: another host, boot or pid namespace.
  auto elsewhere = child_identity;
  elsewhere.host = "another-host";
  EXPECT_FALSE(archive::known_gone(elsewhere));
  elsewhere = child_identity;
  elsewhere.pid_namespace += 1;
  EXPECT_FALSE(archive::known_gone(elsewhere));
  elsewhere = child_identity;
  elsewhere.boot_id = "another-boot";
  EXPECT_FALSE(archive::known_gone(elsewhere));
  // A reused pid: this process's pid with another start time is gone too.
  auto reused = me;
  reused.start_ticks += 1;
  EXPECT_TRUE(archive::known_gone(reused));
}

}  // namespace
}  // namespace pitr
