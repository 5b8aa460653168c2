// What a flow's row goes to on one decoding thread. See run/flow_ends.hpp.
#include "run/flow_ends.hpp"

#include "run/row_hook.hpp"

namespace callwall::run {

void FlowEnds::rows_unseen() noexcept {
    if (hook_) hook_->unseen_rows();
}

void FlowEnds::flow_row(const facts::FlowEnd& e) {
    if (writer_ && !e.held_error) {
        if (hook_) {
            hook_->outcome(e.record, e.app, e.capture_end);
            if (e.live) hook_->unseen_rows();  // a row the end rewrites: attribution reads them all
        }
        writer_->flow_row(e);
        if (hook_ && !e.live) hook_->written(e.record, e.names);
        if (track_written_) written_ids_.push_back(e.flow.id);
    }
    if (observer_ && !e.live) observer_->flow_ended(e.flow, e.record);
}

void FlowEnds::icmp_error(const facts::IcmpErrorFact& e) {
    if (writer_) writer_->icmp_error(e);
}

std::exception_ptr FlowEnds::take_error() noexcept { return writer_ ? writer_->take_error() : nullptr; }

}  // namespace callwall::run
