// An immutable list of strings that many owners can share: the zones of a large configuration
// mostly declare the same nameservers, and 100,000 copies of three strings cost ~15 MB where one
// shared copy costs nothing. Reads like a const std::vector<std::string>.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace soawatch {

class SharedStringList {
  public:
    using List = std::vector<std::string>;

    SharedStringList() = default;
    SharedStringList(List items)  // NOLINT(google-explicit-constructor): reads as a vector
        : items_(items.empty() ? nullptr : std::make_shared<const List>(std::move(items))) {}
    SharedStringList(std::initializer_list<std::string> items) : SharedStringList(List(items)) {}
    explicit SharedStringList(std::shared_ptr<const List> shared) : items_(std::move(shared)) {}

    const List& items() const { return items_ ? *items_ : empty_list(); }
    List::const_iterator begin() const { return items().begin(); }
    List::const_iterator end() const { return items().end(); }
    std::size_t size() const { return items().size(); }
    bool empty() const { return items().empty(); }
    const std::string& operator[](std::size_t i) const { return items()[i]; }
    const std::shared_ptr<const List>& shared() const { return items_; }
    // Whether two lists hold the same storage (not only equal items).
    bool shares_with(const SharedStringList& other) const { return items_ == other.items_; }

    friend bool operator==(const SharedStringList& a, const SharedStringList& b) {
        return a.items() == b.items();
    }
    friend bool operator==(const SharedStringList& a, const List& b) { return a.items() == b; }

  private:
    static const List& empty_list() {
        static const List empty;
        return empty;
    }
    std::shared_ptr<const List> items_;
};

// An immutable string that many owners can share (a fixed message kept by 100,000 results costs
// one copy). Reads like a const std::string.
class SharedString {
  public:
    SharedString() = default;
    SharedString(std::string text)  // NOLINT(google-explicit-constructor): reads as a string
        : text_(text.empty() ? nullptr : std::make_shared<const std::string>(std::move(text))) {}
    SharedString(const char* text)
        : SharedString(std::string(text)) {}  // NOLINT(google-explicit-constructor)

    const std::string& str() const { return text_ ? *text_ : empty_string(); }
    operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
    friend bool operator==(const SharedString& a, const SharedString& b) {
        return a.text_ == b.text_ || a.str() == b.str();
    }
    bool empty() const { return str().empty(); }

  private:
    static const std::string& empty_string() {
        static const std::string empty;
        return empty;
    }
    std::shared_ptr<const std::string> text_;
};

// Hands out one shared copy per distinct list (for the duration of a config load).
class StringListInterner {
  public:
    SharedStringList intern(SharedStringList::List items) {
        if (items.empty()) return {};
        auto& shared = lists_[items];
        if (!shared) shared = std::make_shared<const SharedStringList::List>(std::move(items));
        return SharedStringList(shared);
    }

  private:
    std::map<SharedStringList::List, std::shared_ptr<const SharedStringList::List>> lists_;
};

// Hands out one shared copy per distinct list for as long as anybody holds it: for results that
// live on (the delegation check keeps every zone's NS sets, and most zones of a large operator
// have the same one). A list nobody holds any more is dropped when the table has doubled.
class WeakStringListPool {
  public:
    SharedStringList intern(const SharedStringList& list) {
        if (list.empty()) return {};
        auto& slot = lists_[list.items()];
        if (auto shared = slot.lock()) return SharedStringList(std::move(shared));
        slot = list.shared();
        if (lists_.size() >= sweep_at_) {
            std::erase_if(lists_, [](const auto& entry) { return entry.second.expired(); });
            sweep_at_ = std::max<std::size_t>(64, 2 * lists_.size());
        }
        return list;
    }
    std::size_t size() const { return lists_.size(); }

  private:
    std::map<SharedStringList::List, std::weak_ptr<const SharedStringList::List>> lists_;
    std::size_t sweep_at_ = 64;
};

// An immutable vector that many owners can share, for results kept long and mostly alike (the
// delegation check's answers of 100,000 zones on the same servers). Reads like a const
// std::vector<T>; edit() gives a private copy to change (copy on write).
template <typename T>
class SharedVector {
  public:
    using List = std::vector<T>;

    SharedVector() = default;
    SharedVector(List items)  // NOLINT(google-explicit-constructor): reads as a vector
        : items_(items.empty() ? nullptr : std::make_shared<List>(std::move(items))) {}
    SharedVector(std::initializer_list<T> items) : SharedVector(List(items)) {}

    const List& items() const { return items_ ? *items_ : empty_list(); }
    typename List::const_iterator begin() const { return items().begin(); }
    typename List::const_iterator end() const { return items().end(); }
    std::size_t size() const { return items().size(); }
    bool empty() const { return items().empty(); }
    const T& operator[](std::size_t i) const { return items()[i]; }
    const std::shared_ptr<const List>& shared() const { return items_; }

    friend bool operator==(const SharedVector& a, const SharedVector& b) {
        return a.items_ == b.items_ || a.items() == b.items();
    }

    List& edit() {
        if (!items_ || items_.use_count() > 1)
            items_ = std::make_shared<List>(items_ ? *items_ : List());
        // Only this owner holds it now, and every list is made as a non-const List (held
        // through a pointer to const), so changing it is sound.
        return const_cast<List&>(*items_);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }

  private:
    template <typename>
    friend class WeakVectorPool;
    static const List& empty_list() {
        static const List empty;
        return empty;
    }
    std::shared_ptr<const List> items_;
};

// Hands out one shared copy per distinct vector, identified by a key the caller derives from its
// contents, for as long as anybody holds it (as WeakStringListPool).
template <typename T>
class WeakVectorPool {
  public:
    SharedVector<T> intern(const SharedVector<T>& list, const std::string& key) {
        if (list.empty()) return {};
        auto& slot = lists_[key];
        if (auto shared = slot.lock()) {
            SharedVector<T> out;
            out.items_ = std::move(shared);
            return out;
        }
        slot = list.shared();
        if (lists_.size() >= sweep_at_) {
            std::erase_if(lists_, [](const auto& entry) { return entry.second.expired(); });
            sweep_at_ = std::max<std::size_t>(64, 2 * lists_.size());
        }
        return list;
    }

  private:
    std::map<std::string, std::weak_ptr<const std::vector<T>>> lists_;
    std::size_t sweep_at_ = 64;
};

// Hands out one shared copy per distinct value for as long as anybody holds it: `hash`, derived
// by the caller from the value, picks a candidate or two, operator== decides (as
// WeakVectorPool, for whole values). A hash, not a key string: a value nobody else has costs
// the pool about 100 bytes while it lives.
template <typename T>
class WeakValuePool {
  public:
    std::shared_ptr<const T> intern(std::shared_ptr<const T> value, std::size_t hash) {
        auto& bucket = values_[hash];
        for (const auto& weak : bucket)
            if (auto shared = weak.lock(); shared && *shared == *value) return shared;
        std::erase_if(bucket, [](const auto& weak) { return weak.expired(); });
        bucket.push_back(value);
        if (values_.size() >= sweep_at_) {
            for (auto it = values_.begin(); it != values_.end();) {
                std::erase_if(it->second, [](const auto& weak) { return weak.expired(); });
                it = it->second.empty() ? values_.erase(it) : std::next(it);
            }
            sweep_at_ = std::max<std::size_t>(64, 2 * values_.size());
        }
        return value;
    }

  private:
    std::map<std::size_t, std::vector<std::weak_ptr<const T>>> values_;
    std::size_t sweep_at_ = 64;
};

}  // namespace soawatch
