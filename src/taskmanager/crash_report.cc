#include "taskmanager/crash_report.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "engine/task.h"

namespace sluice {
namespace {

int report_fd = -1;
std::atomic<bool> exit_expected{false};

// Async-signal-safe formatting into a fixed buffer: no allocation.
class Line {
 public:
  Line& Add(const char* text) { return Add(text, std::strlen(text)); }
  Line& Add(const char* text, size_t length) {
    for (size_t i = 0; i < length && size_ < sizeof(buffer_) - 1; ++i) {
      buffer_[size_++] = text[i] == '\n' ? ' ' : text[i];
    }
    return *this;
  }
  Line& Add(long number) {
    char digits[24];
    int n = 0;
    bool negative = number < 0;
    unsigned long value =
        negative ? 0ul - static_cast<unsigned long>(number) : static_cast<unsigned long>(number);
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    if (negative) Add("-");
    while (n > 0) Add(&digits[--n], 1);
    return *this;
  }
  void Write() {
    buffer_[size_++] = '\n';
    ssize_t ignored = write(report_fd, buffer_, size_);
    (void)ignored;
  }

 private:
  char buffer_[1024];
  size_t size_ = 0;
};

// " in task 'a -> b (1/2)' (vertex v, subtask s)", or " outside any task".
// The task's name lists its chained operators; which of them ran cannot be
// told from here without a per-record cost (exceptions name theirs).
void AddWhere(Line& line) {
  const engine::Task* task = engine::CurrentTask();
  if (task == nullptr) {
    line.Add(" outside any task (a thread of the job's code or of Sluice)");
    return;
  }
  const std::string& name = task->task_name();
  line.Add(" in task '").Add(name.data(), name.size()).Add("' (vertex ");
  line.Add(static_cast<long>(task->vertex()));
  line.Add(", subtask ").Add(static_cast<long>(task->subtask())).Add(")");
}

void OnFatalSignal(int signal) {
  Line line;
  line.Add("signal ").Add(static_cast<long>(signal)).Add(" (").Add(sigdescr_np(signal)).Add(")");
  AddWhere(line);
  line.Write();
  // SA_RESETHAND put the default action back: the signal kills the process
  // as it would have, so the TaskManager sees it in the exit status too.
  raise(signal);
}

void OnExit(int status, void*) {
  if (exit_expected.load()) return;
  Line line;
  line.Add("exit(").Add(static_cast<long>(status)).Add(") called");
  AddWhere(line);
  line.Write();
}

}  // namespace

void InstallCrashReporter(int fd) {
  report_fd = fd;
  struct sigaction action {};
  action.sa_handler = &OnFatalSignal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(signal, &action, nullptr);
  on_exit(&OnExit, nullptr);
}

void ExpectExit() { exit_expected.store(true); }

}  // namespace sluice
