// ArcSight Common Event Format (CEF:0) for the syslog sink's `format: cef`:
//
//   CEF:0|Conduit|conduitd|VERSION|SIGNATURE|NAME|SEVERITY|EXTENSIONS
//
// built from the event's stable JSON line (every event kind, control-side
// lines too), so the mapping below is the one place the two formats meet.
// The field -> key table is in the README ("Syslog and CEF"); it keeps the
// OT fields (conduit, rule, function, unit, address, policy version, mode)
// in the standard custom keys cs1..cs6 / cn1..cn3 with their *Label keys.
#pragma once

#include <string>
#include <string_view>

#include "events/event_record.h"
#include "common/json_fields.h"

namespace conduit {

// The whole CEF line (no syslog header, no newline). `event` supplies the
// time (rt, epoch milliseconds); everything else comes from `json_line`.
std::string FormatCef(const EventRecord& event, std::string_view json_line);

// Header fields: '\' and '|' escaped with '\'; line breaks become spaces.
std::string CefHeaderEscape(std::string_view s);
// Extension values: '\' and '=' escaped with '\'; CR and LF as \r and \n.
std::string CefExtensionEscape(std::string_view s);

// 0..10: 7 an enforced deny, 6 a deny only reported, 8-9 evasion ... (README).
int CefSeverity(const JsonFields& f);
// Device Event Class ID: the verdict for verdict records, else the "event".
std::string CefSignature(const JsonFields& f);
// Human-readable name, e.g. "deny modbus write_single_register".
std::string CefName(const JsonFields& f);

}  // namespace conduit
