import NetworkVocabulary

/// One-shot Binding clients, the bulk of what a public STUN server sees: a
/// Binding request and its success response on a 5-tuple that carries
/// nothing else (an ICE agent learning its server-reflexive address, one
/// probe of a NAT test). Cut out of the real templates, each exchange is a
/// template of its own and is replayed like the others.
extension TemplateCapture {
    func oneShotBindings() -> [TemplateCapture] {
        // Packets per client/server 5-tuple (client first), in order of first appearance.
        var flows: [FiveTuple: [Int]] = [:]
        var order: [FiveTuple] = []
        for index in packets.indices {
            let packet = packets[index]
            let flow: FiveTuple
            switch (serverIPs.contains(packet.source.ipv4), serverIPs.contains(packet.destination.ipv4)) {
            case (false, true): flow = FiveTuple(source: packet.source, destination: packet.destination, transport: .udp)
            case (true, false): flow = FiveTuple(source: packet.destination, destination: packet.source, transport: .udp)
            default: continue
            }
            if flows[flow] == nil { order.append(flow) }
            flows[flow, default: []].append(index)
        }
        var slices: [TemplateCapture] = []
        for flow in order {
            guard let indices = flows[flow], indices.count == 2 else { continue }
            let request = packets[indices[0]], response = packets[indices[1]]
            guard request.source == flow.source,
                  let asked = request.payload.stunMessage, asked.method == .binding, asked.messageClass == .request,
                  let answer = response.payload.stunMessage, answer.method == .binding, answer.messageClass == .success,
                  answer.transactionID == asked.transactionID else { continue }
            slices.append(TemplateCapture(name: "\(name) one-shot Binding \(slices.count + 1)", packets: [request, response], serverIPs: serverIPs))
        }
        return slices
    }
}
