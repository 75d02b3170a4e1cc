import Foundation

private let monthNames = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
]
private let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

/// C `strftime` in the "C" locale for the common directives (what Python's `datetime.strftime` prints).
func strftime(_ format: String, _ date: Date, timeZone: TimeZone) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday, .nanosecond], from: date)
    let year = c.year!, month = c.month!, day = c.day!, hour = c.hour!, minute = c.minute!, second = c.second!
    let weekday0 = c.weekday! - 1  // 0 = Sunday
    let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1

    func pad(_ n: Int, _ width: Int = 2, _ fill: Character = "0") -> String {
        let s = String(n)
        return String(repeating: fill, count: max(0, width - s.count)) + s
    }
    var out = ""
    var it = format.makeIterator()
    while let ch = it.next() {
        guard ch == "%" else { out.append(ch); continue }
        guard let d = it.next() else { out.append("%"); break }
        switch d {
        case "Y": out += String(year)
        case "y": out += pad(year % 100)
        case "m": out += pad(month)
        case "d": out += pad(day)
        case "e": out += pad(day, 2, " ")
        case "-":
            // GNU extension used by some templates: %-d, %-m (no padding).
            guard let e = it.next() else { out += "%-"; break }
            switch e {
            case "d": out += String(day)
            case "m": out += String(month)
            case "H": out += String(hour)
            case "I": out += String(hour % 12 == 0 ? 12 : hour % 12)
            case "M": out += String(minute)
            case "S": out += String(second)
            case "j": out += String(dayOfYear)
            default: out += "%-" + String(e)
            }
        case "H": out += pad(hour)
        case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12)
        case "M": out += pad(minute)
        case "S": out += pad(second)
        case "p": out += hour < 12 ? "AM" : "PM"
        case "b", "h": out += String(monthNames[month - 1].prefix(3))
        case "B": out += monthNames[month - 1]
        case "a": out += String(dayNames[weekday0].prefix(3))
        case "A": out += dayNames[weekday0]
        case "w": out += String(weekday0)
        case "u": out += String(weekday0 == 0 ? 7 : weekday0)
        case "j": out += pad(dayOfYear, 3)
        case "f": out += pad((c.nanosecond ?? 0) / 1000, 6)
        case "F": out += "\(year)-\(pad(month))-\(pad(day))"
        case "T": out += "\(pad(hour)):\(pad(minute)):\(pad(second))"
        case "D": out += "\(pad(month))/\(pad(day))/\(pad(year % 100))"
        case "R": out += "\(pad(hour)):\(pad(minute))"
        case "Z": out += timeZone.abbreviation(for: date) ?? ""
        case "z":
            let secs = timeZone.secondsFromGMT(for: date)
            out += (secs < 0 ? "-" : "+") + pad(abs(secs) / 3600) + pad(abs(secs) % 3600 / 60)
        case "n": out += "\n"
        case "t": out += "\t"
        case "%": out += "%"
        default: out += "%" + String(d)
        }
    }
    return out
}
