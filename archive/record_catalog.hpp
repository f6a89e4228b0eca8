#pragma once
// Record catalogs: the index records of many sealed objects gathered in one object, so that
// building an archive's catalog costs a request per catalog object rather than one per
// sealed segment (thousands, on object storage).
//
// A catalog object is a cache of facts that never change: a sealed object is never
// rewritten, so the record inside it is known from its key and size. An entry is used only
// while a listing shows its key with its size; a listed object that no entry covers is read
// itself. Capture writes a catalog every kRecordCatalogBatch sealed objects, on a clean
// stop, and on a restart for what an earlier run sealed without one
// (docs/archive-format.md).
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "archive/index_frame.hpp"

namespace pitr::archive {

inline constexpr std::size_t kRecordCatalogBatch = 256;

// Stores a catalog object under `prefix` covering `objects` (nothing when empty). Its name
// is its content's hash, so two writers of the same entries never conflict.
void write_record_catalog(storage::ObjectStore& store, const std::string& prefix,
                          const std::vector<IndexedObject>& objects);

// Gathers the objects one writer seals and writes them out in catalogs. Thread-safe.
class RecordCatalogWriter {
 public:
  RecordCatalogWriter(storage::ObjectStore& store, std::string prefix,
                      std::size_t batch = kRecordCatalogBatch);
  void add(IndexedObject object);  // writes a catalog once `batch` are gathered
  void flush();                    // writes what is gathered

 private:
  storage::ObjectStore& store_;
  std::string prefix_;
  std::size_t batch_;
  std::mutex mutex_;
  std::vector<IndexedObject> gathered_;
};

struct CatalogedRecords {
  std::vector<nlohmann::json> records;        // one per object asked about, in that order
  std::vector<IndexedObject> uncatalogued;    // those no catalog covered, read from themselves
  std::vector<std::string> damaged_catalogs;  // one line each; their objects were read instead
};

// The records of `objects` (from one listing): from the catalogs under `catalog_prefix`
// where they cover an object, else from the object itself.
CatalogedRecords read_records(const storage::ObjectStore& store,
                              const std::vector<storage::ObjectInfo>& objects,
                              const std::string& catalog_prefix);

}  // namespace pitr::archive
