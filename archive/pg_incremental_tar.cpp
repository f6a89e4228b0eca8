#include "archive/pg_incremental_tar.hpp"

#include <fmt/format.h>

namespace pitr::archive {
namespace {

constexpr std::size_t kFilesPerBatch = 256;  // whose parent id lists are read together

}  // namespace

PgIncrementalTarWriter::PgIncrementalTarWriter(BlockWriter& blocks, std::uint32_t page_size,
                                               std::uint32_t segment_blocks,
                                               std::vector<StoredTarMember> parent,
                                               ParentIds parent_ids)
    : blocks_(blocks),
      page_size_(page_size),
      segment_blocks_(segment_blocks),
      parent_(std::move(parent)),
      parent_ids_(std::move(parent_ids)),
      files_(blocks, page_size),
      reader_({[this](const TarEntry& e) { begin(e); }, [this](Bytes b) { data(b); },
               [this] { end(); }}) {
  for (const auto& m : parent_) parent_by_name_[m.entry.name] = &m;
}

PgIncrementalTarWriter::~PgIncrementalTarWriter() = default;

void PgIncrementalTarWriter::feed(Bytes tar) {
  reader_.feed(tar);
}

void PgIncrementalTarWriter::begin(const TarEntry& e) {
  check_restorable(e);
  entry_ = e;
  auto target =
      e.type == TarEntry::Type::kFile ? postgres::incremental_file_target(e.name) : std::nullopt;
  if (target) {
    auto at = incremental_.size();
    auto& inc = incremental_.emplace_back();
    inc.position = stored_whole_;
    inc.entry = e;
    inc.entry.name = *target;
    inc.reader = std::make_unique<postgres::IncrementalFileReader>(
        e.name, page_size_, segment_blocks_, [this, at](std::size_t, Bytes page) {
          incremental_[at].sent.push_back(blocks_.put(page));
          ++stats_.blocks_sent;
        });
    current_ = Current::kIncremental;
  } else if (e.type == TarEntry::Type::kFile && e.name == "backup_label") {
    label_.clear();
    current_ = Current::kLabel;
  } else {
    files_.begin(e);
    ++stored_whole_;
    current_ = Current::kFile;
  }
}

void PgIncrementalTarWriter::data(Bytes b) {
  switch (current_) {
    case Current::kFile:
      files_.append(entry_.name, b);
      break;
    case Current::kIncremental:
      incremental_.back().reader->feed(b);
      break;
    case Current::kLabel:
      label_.append(reinterpret_cast<const char*>(b.data()), b.size());
      break;
    case Current::kNone:
      break;
  }
}

void PgIncrementalTarWriter::end() {
  if (current_ == Current::kIncremental) {
    incremental_.back().reader->finish();
    ++stats_.incremental_files;
  } else if (current_ == Current::kLabel) {
    files_.begin(entry_);
    files_.append(entry_.name, as_bytes(postgres::complete_backup_label(label_)));
    files_.close(entry_.name);
    ++stored_whole_;
  } else if (current_ == Current::kFile && files_.is_open(entry_.name)) {
    files_.close(entry_.name);
  }
  current_ = Current::kNone;
}

std::vector<StoredTarMember> PgIncrementalTarWriter::finish() {
  reader_.finish();
  auto whole = files_.finish();
  std::vector<StoredTarMember> rebuilt;
  for (std::size_t i = 0; i < incremental_.size(); i += kFilesPerBatch) {
    std::vector<Incremental*> batch;
    for (auto k = i; k < std::min(incremental_.size(), i + kFilesPerBatch); ++k)
      batch.push_back(&incremental_[k]);
    rebuild(batch, rebuilt);
  }
  std::vector<StoredTarMember> out;
  std::size_t next = 0;
  for (std::size_t k = 0; k < incremental_.size(); ++k) {
    while (next < incremental_[k].position) out.push_back(std::move(whole.at(next++)));
    out.push_back(std::move(rebuilt[k]));
  }
  while (next < whole.size()) out.push_back(std::move(whole[next++]));
  return out;
}

void PgIncrementalTarWriter::rebuild(std::vector<Incremental*> batch,
                                     std::vector<StoredTarMember>& out) {
  std::vector<const StoredTarMember*> earlier;
  for (auto* inc : batch) {
    auto it = parent_by_name_.find(inc->entry.name);
    if (it == parent_by_name_.end() || it->second->entry.type != TarEntry::Type::kFile ||
        it->second->entry.size % page_size_ != 0)
      throw std::runtime_error(fmt::format(
          "the server sent {} as its changed blocks only, but the parent backup holds no such "
          "file of whole pages; take a full backup (--type full)",
          inc->entry.name));
    earlier.push_back(it->second);
  }
  auto parent_ids = parent_ids_(earlier);
  std::optional<BlockId> zero;
  for (std::size_t k = 0; k < batch.size(); ++k) {
    auto& ids = parent_ids[k];
    if (ids.size() * page_size_ != earlier[k]->entry.size)
      throw std::runtime_error(fmt::format("the parent backup's {} lists {} blocks for {} bytes",
                                           earlier[k]->entry.name, ids.size(),
                                           earlier[k]->entry.size));
    auto plan = postgres::reconstruction_plan(batch[k]->reader->finish(),
                                              static_cast<std::uint32_t>(ids.size()));
    std::vector<BlockId> data;
    data.reserve(plan.size());
    for (const auto& source : plan) {
      using Kind = postgres::BlockSource::Kind;
      if (source.kind == Kind::kIncremental) {
        data.push_back(batch[k]->sent.at(source.index));
      } else if (source.kind == Kind::kPrior) {
        data.push_back(ids[source.index]);
        ++stats_.blocks_from_parent;
      } else {
        if (!zero) zero = blocks_.put(std::vector<std::uint8_t>(page_size_, 0));
        data.push_back(*zero);
        ++stats_.zero_blocks;
      }
    }
    auto entry = batch[k]->entry;
    entry.size = std::uint64_t{page_size_} * plan.size();
    out.push_back({entry, store_id_lists(blocks_, data)});
    batch[k]->reader.reset();
    batch[k]->sent = {};
  }
}

}  // namespace pitr::archive
