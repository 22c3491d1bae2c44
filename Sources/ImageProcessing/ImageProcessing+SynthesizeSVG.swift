import Foundation

extension ImageProcessing {
    /// A small, valid SVG document of the given size: a background, a circle and a rounded square whose colours
    /// and places come from `seed` (the stand-in's and the offline demo's SVG output).
    public static func synthesizeSVG(width: Int, height: Int, seed: UInt64) -> Data {
        func part(_ shift: UInt64, _ range: Int) -> Int { Int((seed >> shift) & 0xFFFF) % max(range, 1) }
        let colour = { (shift: UInt64) in String(format: "#%06x", Int((seed >> shift) & 0xFFFFFF)) }
        let r = min(width, height) / 4
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">
              <rect width="\(width)" height="\(height)" fill="\(colour(0))"/>
              <circle cx="\(r + part(8, width - 2 * r))" cy="\(r + part(24, height - 2 * r))" r="\(r)" fill="\(colour(20))"/>
              <rect x="\(part(40, width - r))" y="\(part(48, height - r))" width="\(r)" height="\(r)" rx="\(r / 6)" fill="\(colour(36))"/>
            </svg>

            """
        return Data(text.utf8)
    }
}
