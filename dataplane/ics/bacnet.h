// BACnet/IP (ASHRAE 135 Annex J) over UDP port 47808: BVLC, NPDU and APDU.
//
// One datagram is one BVLC message and gives one op:
//   kBacnetConfirmed    confirmed-request, simple-ack, complex-ack and error
//                       PDUs: function = confirmed service choice (tshark's
//                       bacapp.confirmed_service is set for all four). Every
//                       segment of a segmented message carries the service
//                       choice, so no reassembly state is needed.
//   kBacnetUnconfirmed  unconfirmed-request: function = unconfirmed service.
//   kBacnetApdu         segment-ack, reject, abort (and unknown PDU types):
//                       function = APDU type (4, 6, 7; the oracle writes
//                       "pdu<type>").
//   kBacnetNpdu         network-layer message (NPDU control bit 7):
//                       function = message type.
//   kBacnetBvlc         BVLC messages without an NPDU (result, BDT/FDT
//                       management, register foreign device, secure BVLL):
//                       function = BVLC function.
//
// IcsOp fields:
//   direction     confirmed/unconfirmed requests: request; acks, error and
//                 reject: response; segment-ack and abort: the SRV bit (set:
//                 sent by the server, a response). Network messages and BVLC
//                 functions by their meaning (I-Am-Router, *-Ack, Result,
//                 Network-Number-Is are responses).
//   sub_function  invoke id of confirmed-service PDUs, segment-ack, reject and
//                 abort (kOpHasSubFunction)
//   unit          DNET when the NPDU names a destination network (kOpHasUnit)
//   object_group / object_instance   the service's first object identifier
//                 (object type / instance number, kOpHasObject) for requests
//                 that name an object (read/write property [multiple],
//                 subscribe COV, atomic file access, list elements, delete
//                 object, read range, COV/event notifications, I-Am, I-Have,
//                 Who-Has) and for read-property / read-property-multiple /
//                 read-range complex acks; not for segments after the first.
//   object_variation  the property identifier (low 16 bits) where the
//                 service names one after the object (read/write property,
//                 first property of read/write property multiple)
//   address_first/_last  the object instance (first == last), or the device
//                 instance range of Who-Is / Who-Has (kOpHasAddress)
//   exception_code error PDU: error code; reject / abort: the reason
//                 (kOpException)
//   flags         kOpUnsolicited on (un)confirmed COV and event
//                 notifications; kOpTruncated when the bytes end before the
//                 BVLC length does (object fields may then be missing).
//
// Status: kNotThisProtocol unless the datagram starts with BVLC type 0x81, a
// known BVLC function and a length >= 4; kTruncated when the datagram is
// shorter than the BVLC length (or headers are cut); kMalformed for an NPDU
// version other than 1, a reserved APDU type, headers longer than the
// message, or a BVLC length other than the datagram's or than its function
// requires (Annex J.2: Result 6, Register-Foreign-Device 6, Delete-FDT-Entry
// 10, Read-BDT/Read-FDT 4, Write-BDT/Read-BDT-Ack/Read-FDT-Ack 4 + 10 N, the
// NPDU carriers at least version and control); Frame() names those
// kBacnetBvlcLength. Also kMalformed: SLEN 0, and a network layer message
// whose body is not the length its type requires (135 6.4: fixed fields,
// 2-octet network lists, Initialize-Routing-Table's port entries with their
// own info lengths; security and proprietary types unsized), judged on a
// whole datagram only. Decode names NPDU flaws bacnet_npdu, APDU ones
// bacnet_apdu (Frame() reads the BVLC only).
// StreamState is not used.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::bacnet {

inline constexpr uint16_t kTcpPort = 0;  // BACnet/IP is UDP only
inline constexpr uint16_t kUdpPort = 47808;

// BACnet/IP has no TCP transport: always kInvalid.
FrameResult Frame(std::span<const uint8_t> head, bool from_client);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::bacnet
